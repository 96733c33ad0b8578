import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

// A third participant's invitation link: no account needed (docs/realtime.md, "Third participant").
export const route = definePage({ path: "/invite/:token", access: "public", component: lazy(() => import("./InvitePage")) });
