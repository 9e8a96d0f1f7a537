// The messages of docs/chat-protocol.md, as the widget sees them.

export interface Source {
  index: number;
  url: string;
  title: string;
}

export interface Contact {
  phone?: string | null;
  contact_form_url?: string | null;
  email?: string | null;
  address?: string | null;
  opening_hours?: Record<string, string | null> | null;
}

export interface WidgetConfig {
  tenant: string;
  name: string;
  form_of_address: "u" | "je";
  language: string;
  greeting: string;
  disclosure: string;
  privacy: string;
  privacy_url?: string | null;
  suggestions: string[];
  theme: Record<string, string>;
  contact: Contact;
  handover_available: boolean;
  handover_now?: boolean; // someone can take over right now
  /** False while nothing is indexed for the municipality yet. */
  available?: boolean;
  /** False when this website is not one the municipality allows to embed its assistant. */
  origin_allowed?: boolean;
}

export interface HistoryItem {
  role: string;
  text: string;
  message_id?: string | null;
  sources?: Source[] | null;
  name?: string | null;
  language?: string | null;
}

export type HandoverStatus = "offered" | "requested" | "waiting" | "accepted" | "unavailable" | "closed";

export type ServerMessage =
  | { type: "ready"; conversation_id: string; resumed: boolean; history: HistoryItem[]; disclosure?: string }
  | { type: "token"; message_id: string; text: string }
  | { type: "sources"; message_id: string; sources: Source[] }
  | {
      type: "done";
      message_id: string;
      text: string;
      declined?: boolean;
      language?: string | null; // the resident's
      handover_offered?: boolean;
      answer_language?: string | null; // the language of the answer's own sentences
      note?: string | null; // the first paragraph, in the resident's language: "the answer is in Dutch"
    }
  | { type: "handover"; status: HandoverStatus; message?: string | null; contact?: Contact | null }
  | { type: "staff_message"; message_id: string; text: string; name?: string | null }
  | { type: "feedback_ok"; message_id?: string | null }
  | { type: "error"; code: string; message?: string; retry_after?: number | null }
  | { type: "pong" };

export type ClientMessage =
  | { type: "hello"; conversation_id?: string; language?: string }
  | { type: "question"; text: string; client_id?: string }
  | { type: "feedback"; message_id: string; rating: "up" | "down"; comment?: string }
  | { type: "score"; score: number; comment?: string }
  | { type: "handover" }
  | { type: "ping" };

/** Parses one frame from the server; anything that is not a typed object is dropped. */
export function parseServerMessage(raw: unknown): ServerMessage | null {
  let value: unknown = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return null;
    }
  }
  if (!value || typeof value !== "object" || typeof (value as { type?: unknown }).type !== "string") {
    return null;
  }
  return value as ServerMessage;
}
