import { defineStrings } from "../../lib/i18n";

export const strings = defineStrings({
  en: {
    title: "Your appointments in your calendar",
    intro: "Subscribe to this private link in Google Calendar, Apple Calendar or Outlook: your appointments appear there and follow every change. Anyone with the link can read it, so keep it to yourself.",
    active: "A link is active since {date}. It is shown only once: make a new one if you lost it.",
    none: "You have no calendar link.",
    create: "Make a link",
    replace: "Make a new link (the old one stops working)",
    revoke: "Stop the link",
    creating: "Making the link…",
    yourLink: "Your private link",
    copy: "Copy",
    copied: "Copied.",
    revoked: "The link no longer works.",
  },
  fr: {
    title: "Vos rendez-vous dans votre agenda",
    intro: "Abonnez-vous à ce lien privé dans Google Agenda, Calendrier Apple ou Outlook : vos rendez-vous y apparaissent et suivent chaque changement. Toute personne ayant le lien peut le lire : gardez-le pour vous.",
    active: "Un lien est actif depuis le {date}. Il n’est montré qu’une fois : créez-en un nouveau si vous l’avez perdu.",
    none: "Vous n’avez pas de lien d’agenda.",
    create: "Créer un lien",
    replace: "Créer un nouveau lien (l’ancien cesse de fonctionner)",
    revoke: "Désactiver le lien",
    creating: "Création du lien…",
    yourLink: "Votre lien privé",
    copy: "Copier",
    copied: "Copié.",
    revoked: "Le lien ne fonctionne plus.",
  },
});
