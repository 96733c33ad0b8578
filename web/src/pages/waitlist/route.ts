import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/waitlist",
  access: "patient",
  component: lazy(() => import("./WaitlistPage")),
  nav: { order: 22, label: { en: "My waitlist", fr: "Ma liste d’attente" } },
});
