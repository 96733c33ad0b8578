import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({ path: "/forgot-password", access: "public", component: lazy(() => import("./ForgotPasswordPage")) });
