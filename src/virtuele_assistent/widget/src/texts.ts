// What the widget itself says (the tenant's own texts come from widget-config), in the tenant's
// form of address: "u" or "je".

import type { Contact, HandoverStatus } from "./protocol";

type Address = "u" | "je";

const BOTH = {
  launcher: ["Stel uw vraag", "Stel je vraag"],
  inputLabel: ["Uw vraag", "Je vraag"],
  placeholder: ["Typ uw vraag…", "Typ je vraag…"],
  offline: [
    "U bent offline. Controleer uw internetverbinding; we verbinden opnieuw zodra het kan.",
    "Je bent offline. Controleer je internetverbinding; we verbinden opnieuw zodra het kan.",
  ],
  rateLimited: [
    "U stelt veel vragen kort na elkaar. Probeer het over {s} seconden opnieuw.",
    "Je stelt veel vragen kort na elkaar. Probeer het over {s} seconden opnieuw.",
  ],
  feedbackComment: ["Wilt u uitleggen waarom? (niet verplicht)", "Wil je uitleggen waarom? (niet verplicht)"],
  interrupted: [
    "Het antwoord is onderbroken omdat de verbinding wegviel. Stel uw vraag opnieuw.",
    "Het antwoord is onderbroken omdat de verbinding wegviel. Stel je vraag opnieuw.",
  ],
  tooLong: ["Uw vraag is te lang. Gebruik maximaal {n} tekens.", "Je vraag is te lang. Gebruik maximaal {n} tekens."],
  failed: [
    "De assistent is op deze website niet beschikbaar. Neem contact op met de gemeente.",
    "De assistent is op deze website niet beschikbaar. Neem contact op met de gemeente.",
  ],
  notDelivered: [
    "Uw vraag is niet verzonden: de assistent is nu niet bereikbaar. Probeer het zo opnieuw.",
    "Je vraag is niet verzonden: de assistent is nu niet bereikbaar. Probeer het zo opnieuw.",
  ],
  queued: [
    "Uw bericht wordt verstuurd zodra de verbinding terug is.",
    "Je bericht wordt verstuurd zodra de verbinding terug is.",
  ],
  thanks: ["Bedankt voor uw reactie.", "Bedankt voor je reactie."],
  forgetConfirm: [
    "Wilt u dit gesprek wissen? Het wordt ook bij de gemeente verwijderd.",
    "Wil je dit gesprek wissen? Het wordt ook bij de gemeente verwijderd.",
  ],
  contactIntro: ["U kunt de gemeente ook zelf bereiken:", "Je kunt de gemeente ook zelf bereiken:"],
  handover_offered: [
    "Wilt u met een medewerker praten? Kies dan ‘Praat met een medewerker’.",
    "Wil je met een medewerker praten? Kies dan ‘Praat met een medewerker’.",
  ],
  handover_requested: ["Uw vraag om een medewerker is verstuurd.", "Je vraag om een medewerker is verstuurd."],
  handover_waiting: [
    "U staat in de wachtrij. Een medewerker komt zo bij u.",
    "Je staat in de wachtrij. Een medewerker komt zo bij je.",
  ],
  handover_accepted: ["Een medewerker is er. U praat nu met een mens.", "Een medewerker is er. Je praat nu met een mens."],
  handover_unavailable: ["Er is nu geen medewerker beschikbaar.", "Er is nu geen medewerker beschikbaar."],
  handover_closed: ["De medewerker heeft het gesprek afgesloten.", "De medewerker heeft het gesprek afgesloten."],
} as const;

export type TextKey = keyof typeof BOTH;

export function text(address: Address, key: TextKey, values: Record<string, string | number> = {}): string {
  const variants = BOTH[key];
  const template = variants[address === "je" ? 1 : 0];
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? ""));
}

export const FIXED = {
  title: "Digitale assistent",
  close: "Sluit de chat",
  send: "Verstuur",
  conversation: "Gesprek",
  messages: "Berichten",
  you: "U",
  assistant: "Assistent",
  staff: "Medewerker",
  notice: "Melding",
  sources: "Bronnen",
  suggestions: "Veelgestelde vragen",
  handover: "Praat met een medewerker",
  helpful: "Was dit antwoord nuttig?",
  thumbUp: "Ja, nuttig",
  thumbDown: "Nee, niet nuttig",
  commentSend: "Verstuur reactie",
  commentSkip: "Overslaan",
  retry: "Opnieuw vragen",
  forget: "Wis gesprek",
  forgetYes: "Ja, wissen",
  forgetNo: "Nee, bewaren",
  forgotten: "Het gesprek is gewist.",
  forgetFailed: "Het gesprek kon niet worden gewist. Probeer het later opnieuw.",
  connecting: "Verbinden met de assistent…",
  reconnecting: "De verbinding is weggevallen. We verbinden opnieuw…",
  restored: "De verbinding is hersteld.",
  fallback: "Verbonden via een eenvoudige verbinding.",
  typing: "De assistent schrijft een antwoord…",
  configError: "De assistent kan nu niet laden. Probeer het later opnieuw.",
  notAllowed: "De assistent is op deze website niet beschikbaar.",
  notReady: "De assistent is nog niet beschikbaar: de informatie van de gemeente wordt nog ingelezen.",
  preview: "Dit is een voorbeeld. Vragen stellen kan op de website van de gemeente.",
  phone: "Bel",
  contactForm: "Contactformulier",
  openingHours: "Openingstijden",
} as const;

export function handoverText(status: HandoverStatus, address: Address): string {
  const key = `handover_${status}` as TextKey;
  return key in BOTH ? text(address, key) : "";
}

const DAYS: Record<string, string> = {
  ma: "maandag",
  di: "dinsdag",
  wo: "woensdag",
  do: "donderdag",
  vr: "vrijdag",
  za: "zaterdag",
  zo: "zondag",
};

export function openingHours(contact: Contact): string[] {
  const hours = contact.opening_hours ?? {};
  return Object.keys(DAYS)
    .filter((day) => hours[day])
    .map((day) => `${DAYS[day]}: ${hours[day]}`);
}
