import { lazy } from "preact-iso";
import { definePage } from "../../lib/routing";

export const route = definePage({
  path: "/profile",
  access: "patient",
  component: lazy(() => import("./ProfilePage")),
  nav: { order: 40, label: { en: "Profile and history", fr: "Profil et antécédents" } },
});
