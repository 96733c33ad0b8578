import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({ path: "/sign-in", access: "guest", component: lazy(() => import("./SignInPage")) });
