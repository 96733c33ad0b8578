import { defineStrings } from "../../lib/i18n";

export const strings = defineStrings({
  en: {
    title: "Choose a new password",
    password: "New password",
    hint: "At least 10 characters.",
    submit: "Change my password",
    submitting: "Changing…",
    gone: "This link has expired or was already used. Ask for a new one.",
    again: "Ask for a new link",
  },
  fr: {
    title: "Choisir un nouveau mot de passe",
    password: "Nouveau mot de passe",
    hint: "Au moins 10 caractères.",
    submit: "Changer mon mot de passe",
    submitting: "Modification…",
    gone: "Ce lien a expiré ou a déjà servi. Demandez-en un nouveau.",
    again: "Demander un nouveau lien",
  },
});
