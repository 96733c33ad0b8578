import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({ path: "/doctors/:id", access: "public", component: lazy(() => import("./DoctorPage")) });
