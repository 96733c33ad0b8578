import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({ path: "/consult/:id", access: "signed-in", component: lazy(() => import("./ConsultPage")) });
