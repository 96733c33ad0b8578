import { defineStrings } from "../../lib/i18n";

export const strings = defineStrings({
  en: {
    title: "Forgot your password?",
    intro: "Enter the email of your account. We will send you a link to choose a new password.",
    email: "Email",
    submit: "Send the link",
    submitting: "Sending…",
    sent: "If an account uses this email, a link is on its way. It works for one hour.",
    back: "Back to sign-in",
  },
  fr: {
    title: "Mot de passe oublié ?",
    intro: "Saisissez l’e-mail de votre compte. Nous vous enverrons un lien pour choisir un nouveau mot de passe.",
    email: "E-mail",
    submit: "Envoyer le lien",
    submitting: "Envoi…",
    sent: "Si un compte utilise cet e-mail, un lien vous a été envoyé. Il est valable une heure.",
    back: "Retour à la connexion",
  },
});
