// The conversation as the widget shows it, kept in sessionStorage so that it survives a navigation
// to another page of the same site (and is gone when the resident closes the tab).

import type { HandoverStatus, Source } from "./protocol";

export interface ShownMessage {
  key: string; // local, stable
  id?: string; // the server's message_id
  role: "resident" | "assistant" | "staff" | "notice";
  text: string;
  sources?: Source[];
  lang?: string; // of the text: a resident's question, an answer's own sentences
  note?: string; // an answer's first paragraph in the resident's language ("I can only answer in Dutch")
  noteLang?: string;
  declined?: boolean;
  rating?: "up" | "down";
  commented?: boolean;
  interrupted?: boolean;
  unsent?: boolean; // a question that never reached the server
  question?: string; // for "ask again" after an interruption
  name?: string;
  tone?: "error";
}

export interface SavedState {
  conversationId: string | null;
  resumeToken: string | null; // the session token the conversation is resumed with

  messages: ShownMessage[];
  open: boolean;
  handover: HandoverStatus | null;
}

const MAX_MESSAGES = 60;

export class ConversationStore {
  constructor(private readonly key: string) {}

  load(): SavedState {
    const empty: SavedState = { conversationId: null, resumeToken: null, messages: [], open: false, handover: null };
    try {
      const raw = sessionStorage.getItem(this.key);
      if (!raw) return empty;
      const value = JSON.parse(raw) as Partial<SavedState>;
      return {
        conversationId: typeof value.conversationId === "string" ? value.conversationId : null,
        resumeToken: typeof value.resumeToken === "string" ? value.resumeToken : null,
        messages: Array.isArray(value.messages) ? value.messages.filter(isMessage) : [],
        open: value.open === true,
        handover: typeof value.handover === "string" ? value.handover : null,
      };
    } catch {
      return empty; // storage disabled or damaged: start fresh
    }
  }

  save(state: SavedState): void {
    try {
      const trimmed = { ...state, messages: state.messages.slice(-MAX_MESSAGES) };
      sessionStorage.setItem(this.key, JSON.stringify(trimmed));
    } catch {
      // storage full or disabled: the conversation then lasts as long as the page
    }
  }
}

function isMessage(value: unknown): value is ShownMessage {
  const m = value as ShownMessage;
  return (
    !!m &&
    typeof m.key === "string" &&
    typeof m.text === "string" &&
    ["resident", "assistant", "staff", "notice"].includes(m.role)
  );
}
