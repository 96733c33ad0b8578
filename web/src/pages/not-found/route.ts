import { definePage } from "../../lib/routing";
import { NotFoundPage } from "./NotFoundPage";

export const route = definePage({ path: "*", access: "public", component: NotFoundPage });
