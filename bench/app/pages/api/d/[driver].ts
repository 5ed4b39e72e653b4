// Strategy d: this package through next-connect, `router.use(database)`.
import { pagesDatabases } from "../../../lib/databases";
import { packageRouteHandler } from "../../../lib/package-routers";

export default packageRouteHandler(pagesDatabases);
