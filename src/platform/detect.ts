/**
 * Which serverless platform this process runs on, from the environment
 * variables each platform documents for its functions' runtime. `null` for a
 * long-lived server (`next start` on a VM or a container, `next dev`).
 */
export type PlatformName = "vercel" | "netlify" | "aws-lambda" | "cloud-run";

export interface Platform {
  name: PlatformName;
  /** For log lines and docs: "Vercel". */
  label: string;
  /** The variable that gave it away, for the log line. */
  detectedBy: string;
}

type Env = Record<string, string | undefined>;

/**
 * In this order, since platforms stack: Vercel and Netlify functions run on
 * AWS Lambda and carry Lambda's variables too.
 * - Vercel: `VERCEL=1` (its system environment variables);
 * - Netlify: `NETLIFY=true`, or a site's `SITE_ID` inside Lambda (only
 *   `SITE_ID`, `SITE_NAME` and `URL` reach a Netlify function at run time);
 * - AWS Lambda: `AWS_LAMBDA_FUNCTION_NAME`, or `AWS_EXECUTION_ENV=AWS_Lambda_…`;
 * - Cloud Run (and Cloud Run functions): `K_SERVICE`.
 */
export function detectPlatform(env: Env = process.env): Platform | null {
  const set = (key: string) => typeof env[key] === "string" && env[key] !== "" && env[key] !== "0" && env[key]!.toLowerCase() !== "false";
  const onLambda = set("AWS_LAMBDA_FUNCTION_NAME") || (env.AWS_EXECUTION_ENV ?? "").startsWith("AWS_Lambda_");
  if (set("VERCEL")) return { name: "vercel", label: "Vercel", detectedBy: "VERCEL" };
  if (set("NETLIFY")) return { name: "netlify", label: "Netlify", detectedBy: "NETLIFY" };
  if (onLambda && set("SITE_ID")) return { name: "netlify", label: "Netlify", detectedBy: "SITE_ID" };
  if (onLambda) return { name: "aws-lambda", label: "AWS Lambda", detectedBy: set("AWS_LAMBDA_FUNCTION_NAME") ? "AWS_LAMBDA_FUNCTION_NAME" : "AWS_EXECUTION_ENV" };
  if (set("K_SERVICE")) return { name: "cloud-run", label: "Cloud Run", detectedBy: "K_SERVICE" };
  return null;
}
