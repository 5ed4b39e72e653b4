/**
 * A freshly opened pool proves itself with one round trip before anyone gets
 * it (so a wrong host or password is a 503 at connect, not a 500 in a
 * handler); if it cannot, it is closed here, since nobody else holds it.
 */
export async function verifyOrClose<T>(
  client: T,
  verify: (client: T) => Promise<unknown>,
  close: (client: T) => Promise<unknown>,
): Promise<T> {
  try {
    await verify(client);
    return client;
  } catch (err) {
    await close(client).catch(() => {});
    throw err;
  }
}
