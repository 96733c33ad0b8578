import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({ path: "/", access: "public", component: lazy(() => import("./HomePage")) });
