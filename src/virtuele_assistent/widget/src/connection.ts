// The connection to the assistant: a session token, then a WebSocket that reconnects with backoff
// and resumes the conversation; questions go over server-sent events while the WebSocket cannot
// be opened (a proxy that blocks it), and come back to the WebSocket as soon as it works again.

import { type ClientMessage, parseServerMessage, type ServerMessage } from "./protocol";

export type ConnectionState =
  | "connecting" // first connection
  | "open" // WebSocket ready
  | "fallback" // no WebSocket, questions over SSE
  | "reconnecting" // lost, retrying with backoff
  | "offline" // the browser says it is offline
  | "failed"; // the server refuses this widget (wrong tenant or origin): no retry

export interface ConnectionEvents {
  message(message: ServerMessage): void;
  state(state: ConnectionState, detail?: string): void;
  /** A question was being answered when the connection was lost. */
  interrupted(): void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly retryAfter: number | null,
  ) {
    super(detail);
  }
}

const PING_MS = 25_000;
// While the resident can see the page, a lost server is tried again within about 2 s, so the widget
// is back within seconds of the server; a hidden tab waits longer and tries again when shown.
const MAX_BACKOFF_MS = 2_000;
const MAX_BACKOFF_HIDDEN_MS = 15_000;
const WS_FAILURES_BEFORE_FALLBACK = 2;
const FALLBACK_WS_RETRY_MS = 30_000;

/** Which conversation is the resident's, and the token that proves it when resuming. */
export interface ConversationRef {
  id(): string | null;
  resumeToken(): string | null;
  /** A new token replaces the kept one; forgetting the conversation forgets its token too. */
  remember(id: string | null, resumeToken?: string): void;
}

export class Connection {
  private token: string | null = null;
  private tokenExpires = 0;
  private ws: WebSocket | null = null;
  private ready = false;
  private attempts = 0;
  private wsFailures = 0;
  private timer: number | undefined;
  private pingTimer: number | undefined;
  private outbox: ClientMessage[] = [];
  private answering = false;
  private stopped = true;
  private stateNow: ConnectionState = "connecting";
  private freshToken = false;

  constructor(
    private readonly api: string,
    private readonly tenant: string,
    private readonly events: ConnectionEvents,
    private readonly conversation: ConversationRef,
    private readonly language: string,
  ) {}

  get state(): ConnectionState {
    return this.stateNow;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    addEventListener("online", this.onOnline);
    addEventListener("offline", this.onOffline);
    document.addEventListener("visibilitychange", this.onVisible);
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    removeEventListener("online", this.onOnline);
    removeEventListener("offline", this.onOffline);
    document.removeEventListener("visibilitychange", this.onVisible);
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    this.ws?.close(1000);
    this.ws = null;
  }

  /** Sends a frame now, or as soon as the WebSocket is back. */
  send(message: ClientMessage): void {
    if (this.ws && this.ready) {
      this.ws.send(JSON.stringify(message));
    } else if (message.type === "feedback" && this.stateNow === "fallback") {
      void this.postFeedback(message);
    } else {
      this.outbox.push(message);
    }
  }

  private async postFeedback(message: Extract<ClientMessage, { type: "feedback" }>): Promise<void> {
    try {
      const token = await this.fetchToken();
      const { type: _type, ...body } = message;
      const response = await fetch(this.url("/feedback"), {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
        credentials: "omit",
      });
      if (response.ok) this.events.message({ type: "feedback_ok", message_id: message.message_id });
    } catch {
      this.outbox.push(message); // sent over the WebSocket once it is back
    }
  }

  /** Takes back a question that is still waiting for the connection; true when it was never sent. */
  withdraw(clientId: string): boolean {
    const index = this.outbox.findIndex((m) => m.type === "question" && m.client_id === clientId);
    if (index < 0) return false;
    this.outbox.splice(index, 1);
    this.answering = false;
    return true;
  }

  /** Asks a question over the WebSocket, or over SSE in fallback mode. */
  ask(text: string, clientId: string): void {
    this.answering = true;
    if (this.stateNow === "fallback" && !this.ready) {
      void this.askOverSse(text);
    } else {
      this.send({ type: "question", text, client_id: clientId });
    }
  }

  private setState(state: ConnectionState, detail?: string): void {
    this.stateNow = state;
    this.events.state(state, detail);
  }

  /** Deletes the resident's conversation on the server; true when it is gone. */
  async deleteConversation(): Promise<boolean> {
    const conversation = this.conversation.id();
    if (!conversation) return true;
    try {
      const token = await this.fetchToken();
      const response = await fetch(this.url(`/conversations/${encodeURIComponent(conversation)}`), {
        method: "DELETE",
        headers: { Authorization: `Bearer ${token}` },
        credentials: "omit",
      });
      return response.ok || response.status === 404;
    } catch {
      return false;
    }
  }

  private url(path: string): string {
    return `${this.api}/api/v1/tenants/${encodeURIComponent(this.tenant)}${path}`;
  }

  private async fetchToken(): Promise<string> {
    if (this.token && Date.now() < this.tokenExpires) return this.token;
    this.freshToken = true;
    const conversation = this.conversation.id();
    let response = await this.postSession(conversation);
    if ((response.status === 404 || response.status === 403) && conversation) {
      // The conversation is gone (expired or deleted) or no longer provably ours: start a new one.
      this.conversation.remember(null);
      response = await this.postSession(null);
    }
    if (!response.ok) throw await httpError(response);
    const body = (await response.json()) as { token: string; expires_in?: number; conversation_id?: string };
    this.token = body.token;
    this.tokenExpires = Date.now() + Math.max(30, (body.expires_in ?? 3600) - 30) * 1000;
    if (body.conversation_id) this.conversation.remember(body.conversation_id, body.token);
    return body.token;
  }

  private postSession(conversation: string | null): Promise<Response> {
    return fetch(this.url("/sessions"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      // Resuming needs the token the conversation was started with: the id alone proves nothing.
      body: JSON.stringify(
        conversation ? { conversation_id: conversation, resume_token: this.conversation.resumeToken() } : {},
      ),
      credentials: "omit",
    });
  }

  private async connect(): Promise<void> {
    clearTimeout(this.timer);
    if (this.stopped) return;
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      this.setState("offline");
      return;
    }
    let token: string;
    this.freshToken = false;
    try {
      token = await this.fetchToken();
    } catch (error) {
      this.onHttpFailure(error);
      return;
    }
    if (this.stopped) return;
    if (typeof WebSocket === "undefined") {
      this.enterFallback();
      return;
    }
    const wsUrl = this.url("/ws").replace(/^http/, "ws");
    let opened = false;
    const httpAnswered = this.freshToken;
    // The token goes in the handshake's Sec-WebSocket-Protocol, never in the URL (access logs).
    const ws = new WebSocket(wsUrl, ["va.v1", `va.token.${token}`]);
    this.ws = ws;
    this.ready = false;
    ws.onopen = () => {
      opened = true;
      const conversation = this.conversation.id();
      ws.send(
        JSON.stringify({
          type: "hello",
          ...(conversation ? { conversation_id: conversation } : {}),
          language: this.language,
        }),
      );
    };
    ws.onmessage = (event) => {
      if (typeof event.data !== "string") return;
      const message = parseServerMessage(event.data);
      if (!message) return;
      if (message.type === "ready") {
        this.ready = true;
        this.attempts = 0;
        this.wsFailures = 0;
        this.conversation.remember(message.conversation_id);
        this.setState("open");
        clearInterval(this.pingTimer);
        this.pingTimer = window.setInterval(() => this.send({ type: "ping" }), PING_MS);
        this.events.message(message);
        const queued = this.outbox.splice(0);
        for (const frame of queued) this.send(frame);
        return;
      }
      if (message.type === "done") this.answering = false;
      this.events.message(message);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.ready = false;
      clearInterval(this.pingTimer);
      if (this.stopped) return;
      if (this.answering) {
        this.answering = false;
        this.events.interrupted();
      }
      if (event.code === 4401) {
        this.token = null; // expired or rejected: ask for a new one
      } else if (event.code === 4403) {
        this.setState("failed", "tenant");
        return;
      } else if (event.code === 1008) {
        this.setState("failed", "abuse");
        return;
      }
      if (!opened) {
        // A refused handshake may be a stale token: fetch a new one next time. Only when the server
        // did answer HTTP in this attempt does a failed WebSocket mean that something blocks it.
        this.token = null;
        if (httpAnswered) this.wsFailures += 1;
      }
      if (this.wsFailures >= WS_FAILURES_BEFORE_FALLBACK) {
        this.enterFallback();
      } else {
        this.retry();
      }
    };
  }

  private enterFallback(): void {
    this.setState("fallback");
    // Keep trying the WebSocket now and then; SSE carries the questions meanwhile.
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      this.wsFailures = WS_FAILURES_BEFORE_FALLBACK - 1;
      void this.connect();
    }, FALLBACK_WS_RETRY_MS);
  }

  private retry(delayMs?: number): void {
    clearTimeout(this.timer);
    this.setState("reconnecting");
    const cap = document.visibilityState === "hidden" ? MAX_BACKOFF_HIDDEN_MS : MAX_BACKOFF_MS;
    const base = Math.min(cap, 500 * 2 ** this.attempts);
    const delay = delayMs ?? base * (0.75 + Math.random() * 0.5);
    this.attempts += 1;
    this.timer = window.setTimeout(() => void this.connect(), delay);
  }

  private onHttpFailure(error: unknown): void {
    if (error instanceof HttpError) {
      if (error.status === 429) {
        this.events.message({ type: "error", code: "rate_limited", retry_after: error.retryAfter });
        this.retry((error.retryAfter ?? 10) * 1000);
        return;
      }
      if (error.status === 403 || error.status === 404) {
        this.setState("failed", error.status === 403 ? "origin" : "tenant");
        return;
      }
    }
    this.retry();
  }

  private async askOverSse(text: string): Promise<void> {
    try {
      const token = await this.fetchToken();
      const response = await fetch(this.url("/chat/stream"), {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "text/event-stream",
          Authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ question: text, conversation_id: this.conversation.id() ?? undefined }),
        credentials: "omit",
      });
      if (response.status === 401) this.token = null;
      if (!response.ok || !response.body) throw await httpError(response);
      let finished = false;
      await readEventStream(response.body, (message) => {
        if (message.type === "done") finished = true;
        if (message.type === "ready") this.conversation.remember(message.conversation_id);
        this.events.message(message);
      });
      this.answering = false;
      if (!finished) this.events.interrupted();
    } catch (error) {
      this.answering = false;
      if (error instanceof HttpError && error.status === 429) {
        this.events.message({ type: "error", code: "rate_limited", retry_after: error.retryAfter });
        return;
      }
      this.events.interrupted();
      if (error instanceof HttpError && error.status < 500) {
        this.events.message({ type: "error", code: "invalid_message", message: error.detail });
      } else {
        this.retry();
      }
    }
  }

  private onOnline = (): void => {
    this.attempts = 0;
    void this.connect();
  };

  private onOffline = (): void => {
    this.setState("offline");
  };

  private onVisible = (): void => {
    if (document.visibilityState !== "visible" || this.stateNow !== "reconnecting") return;
    this.attempts = 0;
    void this.connect();
  };
}

async function httpError(response: Response): Promise<HttpError> {
  let detail = "";
  try {
    const body = (await response.json()) as { detail?: unknown };
    if (typeof body.detail === "string") detail = body.detail;
  } catch {
    // not problem JSON
  }
  const retryAfter = Number(response.headers.get("Retry-After"));
  return new HttpError(response.status, detail, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null);
}

/** Reads a text/event-stream body and hands each event's JSON data, typed by its event name, on. */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  onMessage: (message: ServerMessage) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const dispatch = (chunk: string) => {
    let event = "message";
    const data: string[] = [];
    for (const line of chunk.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return;
    let value: unknown;
    try {
      value = JSON.parse(data.join("\n"));
    } catch {
      return;
    }
    if (value && typeof value === "object" && !("type" in value)) {
      (value as { type: string }).type = event;
    }
    const message = parseServerMessage(value);
    if (message) onMessage(message);
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let boundary = buffer.indexOf("\n\n");
    while (boundary >= 0) {
      dispatch(buffer.slice(0, boundary));
      buffer = buffer.slice(boundary + 2);
      boundary = buffer.indexOf("\n\n");
    }
  }
  if (buffer.trim()) dispatch(buffer);
}
