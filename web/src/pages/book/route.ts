import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({ path: "/book", access: "patient", component: lazy(() => import("./BookPage")) });
