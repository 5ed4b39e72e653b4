// Strategy d-noguard (diagnostic): d's code, with `leakGuard: false` on its
// databases, to measure what the leak guard's per-request scope costs.
import { pagesDatabasesNoGuard } from "../../../lib/databases";
import { packageRouteHandler } from "../../../lib/package-routers";

export default packageRouteHandler(pagesDatabasesNoGuard);
