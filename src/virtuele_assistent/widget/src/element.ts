// <virtuele-assistent tenant="…">: the chat widget residents see on a municipal website.

import { Connection, type ConnectionState } from "./connection";
import { h, icon, uid } from "./dom";
import type { Contact, HandoverStatus, HistoryItem, ServerMessage, Source, WidgetConfig } from "./protocol";
import { makeLink, renderRichText, safeUrl, streamable } from "./richtext";
import { ConversationStore, type SavedState, type ShownMessage } from "./store";
import { CSS } from "./styles";
import { FIXED, handoverText, openingHours, text, type TextKey } from "./texts";

const MAX_QUESTION_CHARS = 2000;
// A question still waiting for the connection after this long is taken back and said not to be sent.
const NOT_DELIVERED_MS = 6_000;
// Keep in step with the media query in styles.ts that anchors the panel instead of filling the screen.
const DESKTOP_MEDIA = "(min-width: 40em) and (min-height: 34em)";
const CUSTOM_PROPERTY = /^--[a-z][a-z0-9-]{0,80}$/;
const SAFE_VALUE = /^[^;{}<>\\]{1,200}$/;

// Where this script was loaded from: the API server, unless the element says otherwise.
const SCRIPT_ORIGIN = (() => {
  const src = (document.currentScript as HTMLScriptElement | null)?.src;
  try {
    return src ? new URL(src).origin : location.origin;
  } catch {
    return location.origin;
  }
})();

interface Streaming {
  message: ShownMessage;
  el: HTMLElement;
  stream: HTMLElement;
  typing: HTMLElement;
}

export class VirtueleAssistentElement extends HTMLElement {
  private readonly shadow: ShadowRoot;
  private started = false;
  private config: WidgetConfig | null = null;
  private connection: Connection | null = null;
  private store!: ConversationStore;
  private state!: SavedState;
  private streaming: Streaming | null = null;
  private pendingFeedback: ShownMessage | null = null;
  private rateLimitedUntil = 0;
  private rateTimer: number | undefined;
  private deliveryTimer: number | undefined;
  private bannerTimer: number | undefined;
  private infoTimer: number | undefined;
  private lastState: ConnectionState | null = null;
  private api = SCRIPT_ORIGIN;
  private tenant = "";

  // parts of the shadow DOM
  private launcher!: HTMLButtonElement;
  private panel!: HTMLElement;
  private subtitle!: HTMLElement;
  private banner!: HTMLElement;
  private scroller!: HTMLElement;
  private footer!: HTMLElement;
  private intro!: HTMLElement;
  private log!: HTMLElement;
  private suggestions!: HTMLElement;
  private handoverButton!: HTMLButtonElement;
  private forgetButton!: HTMLButtonElement;
  private forgetRow!: HTMLElement;
  private handoverStatus!: HTMLElement;
  private input!: HTMLTextAreaElement;
  private sendButton!: HTMLButtonElement;
  private counter!: HTMLElement;

  constructor() {
    super();
    this.shadow = this.attachShadow({ mode: "open" });
  }

  /** A preview in the staff portal: shows the tenant's texts and theme, asks nothing, keeps nothing. */
  get preview(): boolean {
    return this.hasAttribute("preview");
  }

  get inline(): boolean {
    return this.getAttribute("mode") === "inline";
  }

  private get address(): "u" | "je" {
    return this.config?.form_of_address === "je" ? "je" : "u";
  }

  private t(key: TextKey, values?: Record<string, string | number>): string {
    return text(this.address, key, values);
  }

  connectedCallback(): void {
    if (this.started) return;
    this.started = true;
    this.tenant = (this.getAttribute("tenant") ?? "").trim();
    const api = this.getAttribute("api");
    const safeApi = api ? safeUrl(api) : null;
    if (safeApi && /^https?:/.test(safeApi)) this.api = new URL(safeApi).origin;
    this.store = new ConversationStore(`virtuele-assistent:${this.preview ? "preview:" : ""}${this.api}:${this.tenant}`);
    this.state = this.store.load();
    this.build();
    if (!/^[a-z0-9-]{1,63}$/.test(this.tenant)) {
      this.showBanner(FIXED.configError, true);
      return;
    }
    void this.loadConfig();
  }

  disconnectedCallback(): void {
    this.connection?.stop();
    this.connection = null;
    this.started = false;
    window.visualViewport?.removeEventListener("resize", this.fitViewport);
    window.visualViewport?.removeEventListener("scroll", this.fitViewport);
    window.removeEventListener("pagehide", this.onPageHide);
  }

  /** Opens the panel and puts the cursor in the question field. */
  open(focus = true): void {
    if (this.inline) return;
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.querySelector("span")!.textContent = FIXED.close; // it closes the chat now
    this.state.open = true;
    this.save();
    this.fitViewport();
    this.ensureConnection();
    this.scrollToEnd();
    if (focus) this.input.focus();
  }

  /** Closes the panel and returns focus to the launcher. */
  close(): void {
    if (this.inline) return;
    this.flushFeedback();
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.querySelector("span")!.textContent = this.t("launcher");
    this.state.open = false;
    this.save();
    this.launcher.focus();
  }

  // ---- building -------------------------------------------------------------------------------

  private build(): void {
    const style = h("style");
    style.textContent = CSS;
    const titleId = "va-title";

    this.launcher = h(
      "button",
      { type: "button", class: "va-button va-launcher", "aria-expanded": "false", "aria-controls": "va-panel" },
      icon("chat"),
      h("span", {}, this.t("launcher")),
    );
    this.launcher.hidden = this.inline;
    this.launcher.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));

    const closeButton = h(
      "button",
      { type: "button", class: "va-button va-button--small va-close", "aria-label": FIXED.close },
      icon("close"),
    );
    closeButton.hidden = this.inline;
    closeButton.addEventListener("click", () => this.close());

    this.subtitle = h("p", { class: "va-subtitle" });
    this.banner = h("p", { class: "va-banner", role: "status" });
    this.intro = h("div", { class: "va-intro" });
    this.log = h("div", { class: "va-log", role: "log", "aria-label": FIXED.messages });
    this.suggestions = h("div", { class: "va-suggestions" });
    this.scroller = h(
      "div",
      { class: "va-scroll", tabindex: "0", role: "region", "aria-label": FIXED.conversation },
      this.intro,
      this.log,
      this.suggestions,
    );

    this.handoverButton = h(
      "button",
      { type: "button", class: "va-button va-button--secondary va-button--small va-handover" },
      icon("person"),
      h("span", {}, FIXED.handover),
    );
    this.handoverButton.addEventListener("click", () => this.requestHandover());
    this.forgetButton = h("button", { type: "button", class: "va-button va-button--secondary va-button--small" }, FIXED.forget);
    this.forgetButton.addEventListener("click", () => this.confirmForget());
    this.forgetRow = h("div", { class: "va-forget" });
    this.forgetRow.hidden = true;
    this.handoverStatus = h("p", { class: "va-handover-status", role: "status" });

    const inputId = "va-input";
    const counterId = "va-counter";
    this.input = h("textarea", {
      id: inputId,
      class: "va-input",
      rows: "1",
      maxlength: String(MAX_QUESTION_CHARS),
      autocomplete: "off",
      enterkeyhint: "send",
      "aria-describedby": counterId,
      placeholder: this.t("placeholder"),
    });
    this.counter = h("p", { id: counterId, class: "va-counter", "aria-live": "polite" });
    this.sendButton = h(
      "button",
      { type: "submit", class: "va-button va-send", "aria-label": FIXED.send },
      icon("send"),
    );
    const form = h(
      "form",
      { class: "va-form", novalidate: true },
      h("label", { for: inputId, class: "va-sr-only" }, this.t("inputLabel")),
      this.input,
      this.sendButton,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit(this.input.value);
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit(this.input.value);
      }
    });
    this.input.addEventListener("input", () => this.onInput());

    this.panel = h(
      "section",
      {
        id: "va-panel",
        class: `va-panel ${this.inline ? "va-panel--inline" : "va-panel--floating"}`,
        role: this.inline ? "region" : "dialog",
        "aria-labelledby": titleId,
      },
      h(
        "div",
        { class: "va-header" },
        h("div", { class: "va-header-text" }, h("h2", { id: titleId, class: "va-title" }, FIXED.title), this.subtitle),
        closeButton,
      ),
      this.banner,
      this.scroller,
      (this.footer = h(
        "div",
        { class: "va-footer" },
        h("div", { class: "va-handover-row" }, this.handoverButton, this.forgetButton, this.handoverStatus),
        this.forgetRow,
        form,
        this.counter,
      )),
    );
    this.panel.hidden = !this.inline;
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.inline) {
        event.stopPropagation();
        this.close();
      } else if (event.key === "Tab" && this.fullScreen()) {
        this.keepFocusInside(event);
      }
    });

    const root = h("div", { class: "va-root", lang: "nl" }, this.launcher, this.panel);
    this.shadow.replaceChildren(style, root);
    window.visualViewport?.addEventListener("resize", this.fitViewport);
    window.visualViewport?.addEventListener("scroll", this.fitViewport);
    window.addEventListener("pagehide", this.onPageHide);
  }

  private onPageHide = (): void => this.flushFeedback();

  /** The floating panel covers the whole screen (phones, strong zoom): it is modal then. */
  private fullScreen(): boolean {
    return !this.inline && !window.matchMedia(DESKTOP_MEDIA).matches;
  }

  /** In full-screen mode Tab cycles through the panel instead of moving behind it. */
  private keepFocusInside(event: KeyboardEvent): void {
    const focusable = [...this.panel.querySelectorAll<HTMLElement>("button, a[href], textarea, [tabindex='0']")].filter(
      (el) => !el.hasAttribute("disabled") && el.offsetParent !== null,
    );
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    const active = this.shadow.activeElement;
    if (event.shiftKey && active === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && active === last) {
      event.preventDefault();
      first.focus();
    }
  }

  /** Keeps the full-screen panel inside the visible viewport, so the on-screen keyboard never covers the input. */
  private fitViewport = (): void => {
    if (this.inline) return;
    this.panel.setAttribute("aria-modal", String(this.fullScreen()));
    const viewport = window.visualViewport;
    if (!viewport) return;
    this.panel.style.setProperty("--va-viewport-height", `${Math.round(viewport.height)}px`);
    this.panel.style.setProperty("--va-viewport-top", `${Math.round(viewport.offsetTop)}px`);
  };

  private async loadConfig(): Promise<void> {
    try {
      const response = await fetch(
        `${this.api}/api/v1/tenants/${encodeURIComponent(this.tenant)}/widget-config`,
        { credentials: "omit", cache: this.preview ? "no-store" : "default" },
      );
      if (!response.ok) throw new Error(String(response.status));
      this.config = (await response.json()) as WidgetConfig;
    } catch {
      this.showBanner(FIXED.configError, true);
      window.setTimeout(() => void this.loadConfig(), 15_000);
      return;
    }
    if (this.config.origin_allowed === false) {
      // For whoever builds the page: what to change. Residents see that it is not available here.
      console.error(
        `Virtuele Assistent: deze website (${location.origin}) staat niet in de lijst van websites die ` +
          `de assistent van ${this.config.name} mogen gebruiken. Voeg hem toe met: va tenants update ` +
          `${this.tenant} --origin ${location.origin} (geef ook de origins die er al staan), ` +
          `of via PATCH /api/v1/tenants/${this.tenant} (allowed_origins).`,
      );
      this.config = null;
      this.footer.hidden = true; // nothing to ask or request here: no controls that do nothing
      this.showBanner(FIXED.notAllowed, true);
      return;
    }
    this.showBanner(this.config.available === false ? FIXED.notReady : "");
    if (this.config.available === false) window.setTimeout(() => void this.loadConfig(), 60_000);
    if (this.config.handover_now && this.state.handover === "unavailable") this.state.handover = null; // staffed again
    this.applyConfig(this.config);
    this.renderAll();
    if (this.inline || this.state.open) {
      // Restored after a navigation: show the panel but leave focus where the page put it.
      if (!this.inline) this.open(false);
      this.ensureConnection();
    }
  }

  private applyConfig(config: WidgetConfig): void {
    for (const [name, value] of Object.entries(config.theme ?? {})) {
      if (CUSTOM_PROPERTY.test(name) && typeof value === "string" && SAFE_VALUE.test(value) && !/url\(/i.test(value)) {
        this.style.setProperty(name, value);
      }
    }
    const lang = config.language || "nl";
    this.shadow.querySelector(".va-root")?.setAttribute("lang", lang);
    this.subtitle.textContent = config.name;
    this.launcher.querySelector("span")!.textContent = this.panel.hidden ? this.t("launcher") : FIXED.close;
    this.input.placeholder = this.t("placeholder");
    this.shadow.querySelector(`label[for="va-input"]`)!.textContent = this.t("inputLabel");

    const privacy = h("p", { class: "va-note" }, config.privacy);
    const privacyUrl = safeUrl(config.privacy_url);
    if (privacyUrl) privacy.append(" ", makeLink(privacyUrl, "Privacyverklaring"));
    this.intro.replaceChildren(
      h("div", { class: "va-msg va-msg--assistant" }, h("p", {}, config.greeting)),
      h("p", { class: "va-note" }, config.disclosure),
      privacy,
    );
  }

  // ---- rendering ------------------------------------------------------------------------------

  private renderAll(): void {
    // Rebuilding the log must not make screen readers read the whole conversation again.
    this.log.setAttribute("aria-live", "off");
    this.log.replaceChildren(...this.state.messages.map((m) => this.renderMessage(m)));
    window.setTimeout(() => this.log.removeAttribute("aria-live"), 0);
    this.renderSuggestions();
    this.renderHandover(this.state.handover);
    this.forgetButton.hidden = !this.state.messages.length;
  }

  private renderSuggestions(): void {
    const questions = this.config?.suggestions ?? [];
    const asked = this.state.messages.some((m) => m.role === "resident");
    if (asked || !questions.length) {
      this.suggestions.replaceChildren();
      this.suggestions.hidden = true;
      return;
    }
    const titleId = "va-suggestions-title";
    const list = h("ul", { "aria-labelledby": titleId });
    for (const question of questions.slice(0, 6)) {
      const button = h("button", { type: "button", class: "va-button va-button--secondary va-button--small" }, question);
      button.addEventListener("click", () => this.submit(question));
      list.append(h("li", {}, button));
    }
    this.suggestions.replaceChildren(h("p", { id: titleId, class: "va-suggestions-title" }, FIXED.suggestions), list);
    this.suggestions.hidden = false;
  }

  private renderMessage(message: ShownMessage): HTMLElement {
    const el = h("div", { class: `va-msg va-msg--${message.role}`, "data-key": message.key });
    // An answer's labels are the widget's; its text carries its own language (fillAnswer).
    const lang = message.role === "assistant" ? this.config?.language || "nl" : message.lang;
    if (lang) el.setAttribute("lang", lang);
    if (message.id) el.setAttribute("data-message-id", message.id);
    if (message.role === "resident") {
      el.append(h("span", { class: "va-sr-only" }, `${FIXED.you}: `), message.text);
    } else if (message.role === "assistant") {
      el.append(h("span", { class: "va-who va-sr-only" }, `${FIXED.assistant}:`));
      this.fillAnswer(el, message);
    } else if (message.role === "staff") {
      el.append(h("span", { class: "va-who" }, message.name ? `${FIXED.staff} ${message.name}` : FIXED.staff));
      el.append(renderRichText(message.text));
    } else {
      if (message.tone === "error") el.classList.add("va-banner--error");
      el.append(h("span", { class: "va-sr-only" }, `${FIXED.notice}: `));
      el.append(renderRichText(message.text));
      if (message.sources === undefined && message.name === "contact" && this.config) {
        el.append(this.contactList(this.config.contact));
      }
      if (message.question) el.append(this.retryButton(message.question));
    }
    return el;
  }

  /** The answer body, its sources and the feedback buttons. */
  private fillAnswer(el: HTMLElement, message: ShownMessage): void {
    const answer = h("div", { class: "va-answer" });
    if (message.lang) answer.setAttribute("lang", message.lang);
    let text = message.text;
    if (message.note && text.startsWith(message.note)) {
      answer.append(h("p", { class: "va-answer-note", lang: message.noteLang || message.lang || "nl" }, message.note));
      text = text.slice(message.note.length).trim();
    }
    answer.append(renderRichText(text, message.sources ?? []));
    const sources = this.sourceList(message.sources ?? []);
    if (sources) answer.append(sources);
    el.append(answer);
    if (message.interrupted) {
      el.append(h("p", { class: "va-note" }, this.t("interrupted")));
      if (message.question) el.append(this.retryButton(message.question));
    } else if (message.id) {
      el.append(this.feedback(message));
    }
  }

  private sourceList(sources: Source[]): HTMLElement | null {
    if (!sources.length) return null;
    const list = h("ol");
    for (const source of [...sources].sort((a, b) => a.index - b.index)) {
      const url = safeUrl(source.url);
      const label = source.title || source.url;
      list.append(h("li", { value: String(source.index) }, url ? makeLink(url, label) : label));
    }
    return h("div", { class: "va-sources" }, h("p", { class: "va-sources-title" }, FIXED.sources), list);
  }

  private contactList(contact: Contact): HTMLElement {
    const list = h("ul", { class: "va-contact" });
    if (contact.phone) {
      const tel = safeUrl(`tel:${contact.phone.replace(/[^\d+]/g, "")}`);
      list.append(h("li", {}, `${FIXED.phone}: `, tel ? makeLink(tel, contact.phone, false) : contact.phone));
    }
    const form = safeUrl(contact.contact_form_url);
    if (form) list.append(h("li", {}, makeLink(form, FIXED.contactForm)));
    const hours = openingHours(contact);
    if (hours.length) list.append(h("li", {}, `${FIXED.openingHours}: ${hours.join(", ")}`));
    return h("div", {}, h("p", {}, this.t("contactIntro")), list);
  }

  private retryButton(question: string): HTMLElement {
    const button = h("button", { type: "button", class: "va-button va-button--secondary va-button--small va-retry" }, FIXED.retry);
    button.addEventListener("click", () => this.submit(question));
    return button;
  }

  private feedback(message: ShownMessage): HTMLElement {
    const questionId = uid("va-fb");
    // Not announced as part of the conversation (the log is a live region): the comment form takes the
    // focus, and "Bedankt" is said by its own status line.
    const wrap = h("div", { class: "va-feedback", role: "group", "aria-labelledby": questionId, "aria-live": "off" });
    wrap.append(h("p", { id: questionId, class: "va-feedback-question" }, FIXED.helpful));
    const status = h("p", { class: "va-note", role: "status" });
    const buttons = (["up", "down"] as const).map((rating) => {
      const button = h(
        "button",
        {
          type: "button",
          class: "va-button va-button--secondary va-button--small va-thumb",
          "aria-pressed": message.rating === rating ? "true" : "false",
          "data-rating": rating,
        },
        icon(rating),
        h("span", { class: "va-sr-only" }, rating === "up" ? FIXED.thumbUp : FIXED.thumbDown),
      );
      button.addEventListener("click", () => {
        if (message.rating === rating) return;
        this.flushFeedback();
        message.rating = rating;
        for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
        this.save();
        if (message.commented) {
          this.connection?.send({ type: "feedback", message_id: message.id!, rating });
        } else {
          // The rating is sent with the optional comment, or without it when the resident moves on.
          this.pendingFeedback = message;
          this.commentForm(wrap, message, status);
        }
      });
      return button;
    });
    wrap.append(...buttons, status);
    if (message.commented) status.textContent = this.t("thanks");
    return wrap;
  }

  private commentForm(wrap: HTMLElement, message: ShownMessage, status: HTMLElement): void {
    wrap.querySelector(".va-comment")?.remove();
    const id = uid("va-comment");
    const textarea = h("textarea", { id, class: "va-textarea", maxlength: "1000", rows: "3" });
    const send = h("button", { type: "submit", class: "va-button va-button--small" }, FIXED.commentSend);
    const skip = h("button", { type: "button", class: "va-button va-button--secondary va-button--small" }, FIXED.commentSkip);
    const form = h(
      "form",
      { class: "va-comment" },
      h("label", { for: id }, this.t("feedbackComment")),
      textarea,
      h("div", { class: "va-comment-actions" }, send, skip),
    );
    const finish = (comment: string) => {
      this.flushFeedback(comment);
      form.remove();
      status.textContent = this.t("thanks");
      wrap.querySelector<HTMLButtonElement>(`[data-rating="${message.rating}"]`)?.focus();
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      finish(textarea.value.trim());
    });
    skip.addEventListener("click", () => finish(""));
    wrap.insertBefore(form, status);
    textarea.focus();
  }

  /** Sends the rating that waits for its optional comment. */
  private flushFeedback(comment = ""): void {
    const message = this.pendingFeedback;
    this.pendingFeedback = null;
    if (!message?.id || !message.rating) return;
    this.connection?.send({
      type: "feedback",
      message_id: message.id,
      rating: message.rating,
      ...(comment ? { comment } : {}),
    });
    message.commented = true;
    this.save();
  }

  private renderHandover(status: HandoverStatus | null): void {
    const active = status === "requested" || status === "waiting" || status === "accepted";
    // Offered only when someone can take over: the server offered it, or nobody said otherwise and
    // the live queue was staffed when the widget loaded.
    const canNow = status === "offered" || (status !== "unavailable" && !!this.config?.handover_now);
    this.handoverButton.hidden = active || !this.config?.handover_available || !canNow;
    this.handoverStatus.textContent = status && status !== "offered" ? handoverText(status, this.address) : "";
    this.handoverButton.classList.toggle("va-button--secondary", status !== "offered");
  }

  // ---- behaviour ------------------------------------------------------------------------------

  private ensureConnection(): void {
    if (this.connection || !this.config || this.preview) return;
    this.connection = new Connection(
      this.api,
      this.tenant,
      {
        message: (message) => this.onMessage(message),
        state: (state) => this.onState(state),
        interrupted: () => this.onInterrupted(),
      },
      {
        id: () => this.state.conversationId,
        resumeToken: () => this.state.resumeToken,
        remember: (id, resumeToken) => {
          const token = id === null ? null : (resumeToken ?? this.state.resumeToken);
          if (id !== this.state.conversationId || token !== this.state.resumeToken) {
            this.state.conversationId = id;
            this.state.resumeToken = token;
            this.save();
          }
        },
      },
      this.config.language || "nl",
    );
    this.connection.start();
  }

  private onInput(): void {
    const input = this.input;
    input.style.height = "auto";
    input.style.height = `${input.scrollHeight}px`;
    const length = input.value.length;
    this.counter.textContent = length > MAX_QUESTION_CHARS - 200 ? `${length} van ${MAX_QUESTION_CHARS} tekens` : "";
  }

  private submit(raw: string): void {
    // Control characters (from a paste) are no text; the server would refuse the question for them.
    const question = raw.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "").trim();
    if (!question || !this.config) return;
    if (this.preview) {
      this.showBanner(FIXED.preview);
      return;
    }
    if (this.config.available === false) {
      this.showBanner(FIXED.notReady);
      return;
    }
    if (this.streaming) return; // one question at a time
    if (question.length > MAX_QUESTION_CHARS) {
      this.showBanner(this.t("tooLong", { n: MAX_QUESTION_CHARS }), true);
      return;
    }
    const waitS = Math.ceil((this.rateLimitedUntil - Date.now()) / 1000);
    if (waitS > 0) {
      this.showBanner(this.t("rateLimited", { s: waitS }), true);
      return;
    }
    if (this.banner.classList.contains("va-banner--error") && this.lastState !== "failed" && this.lastState !== "offline") {
      this.showBanner(""); // an earlier "too long" no longer applies
    }
    this.ensureConnection();
    this.flushFeedback();
    if (this.inline || !this.panel.hidden) this.input.focus();
    this.input.value = "";
    this.onInput();
    this.add({ key: uid(), role: "resident", text: question });
    this.renderSuggestions();
    this.startStreaming(question);
    const clientId = uid("q");
    this.connection!.ask(question, clientId);
    clearTimeout(this.deliveryTimer);
    this.deliveryTimer = window.setTimeout(() => this.notDelivered(clientId, question), NOT_DELIVERED_MS);
    if (this.connection!.state === "reconnecting" || this.connection!.state === "offline") {
      this.showBanner(this.t("queued"));
    }
  }

  private requestHandover(): void {
    if (this.preview) {
      this.showBanner(FIXED.preview);
      return;
    }
    this.ensureConnection();
    if (!this.config?.handover_available) {
      this.add({ key: uid(), role: "notice", text: handoverText("unavailable", this.address), name: "contact" });
      return;
    }
    this.connection!.send({ type: "handover" });
    this.state.handover = "requested";
    this.renderHandover("requested");
    this.save();
  }

  /** "Wis gesprek": asks once more, then deletes the conversation here and on the server. */
  private confirmForget(): void {
    const yes = h("button", { type: "button", class: "va-button va-button--small" }, FIXED.forgetYes);
    const no = h("button", { type: "button", class: "va-button va-button--secondary va-button--small" }, FIXED.forgetNo);
    const done = () => {
      this.forgetRow.hidden = true;
      this.forgetRow.replaceChildren();
    };
    no.addEventListener("click", () => {
      done();
      this.forgetButton.focus();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      const gone = await (this.connection?.deleteConversation() ?? Promise.resolve(true));
      done();
      if (!gone) {
        this.showBanner(FIXED.forgetFailed, true);
        this.forgetButton.focus();
        return;
      }
      this.connection?.stop();
      this.connection = null;
      this.streaming = null;
      this.pendingFeedback = null;
      this.state = { conversationId: null, resumeToken: null, messages: [], open: this.state.open, handover: null };
      this.save();
      this.renderAll();
      this.sendButton.disabled = false;
      this.showBanner(FIXED.forgotten);
      clearTimeout(this.infoTimer);
      this.infoTimer = window.setTimeout(() => {
        if (this.banner.textContent === FIXED.forgotten) this.showBanner("");
      }, 6000);
      this.input.focus();
      this.ensureConnection();
    });
    this.forgetRow.replaceChildren(h("p", { class: "va-note" }, this.t("forgetConfirm")), yes, no);
    this.forgetRow.hidden = false;
    yes.focus();
  }

  private add(message: ShownMessage): HTMLElement {
    this.forgetButton.hidden = false;
    this.state.messages.push(message);
    this.save();
    const el = this.renderMessage(message);
    this.log.append(el);
    this.scrollToEnd();
    return el;
  }

  private startStreaming(question: string): void {
    const message: ShownMessage = { key: uid(), role: "assistant", text: "", question };
    const typing = h("span", { class: "va-typing" }, h("span"), h("span"), h("span"));
    const stream = h("div", { class: "va-stream", "aria-hidden": "true" });
    // The streamed text is hidden from screen readers; the finished answer is added once (see finish).
    const el = h(
      "div",
      { class: "va-msg va-msg--assistant va-pending", "data-key": message.key, "aria-busy": "true" },
      h("div", { "aria-hidden": "true" }, stream, typing),
      h("span", { class: "va-sr-only" }, FIXED.typing),
    );
    this.log.append(el);
    this.streaming = { message, el, stream, typing };
    this.sendButton.disabled = true;
    this.scrollToEnd();
  }

  private finishStreaming(done: Extract<ServerMessage, { type: "done" }>): void {
    const current = this.streaming;
    if (!current) return;
    const message = current.message;
    message.id = done.message_id;
    message.text = done.text || message.text;
    message.declined = done.declined ?? false;
    const residentLang = done.language || this.config?.language || "nl";
    message.lang = done.answer_language || residentLang;
    if (done.note) {
      message.note = done.note;
      message.noteLang = residentLang;
    }
    delete message.question;
    this.streaming = null;
    // The language the server found the resident's question in.
    const resident = [...this.state.messages].reverse().find((m) => m.role === "resident");
    if (resident && !resident.lang) {
      resident.lang = residentLang;
      this.log.querySelector(`[data-key="${resident.key}"]`)?.setAttribute("lang", residentLang);
    }
    this.state.messages.push(message);
    this.save();
    current.el.replaceWith(this.renderMessage(message));
    this.sendButton.disabled = false;
    this.scrollToEnd(); // a handover status follows as its own message
  }

  /** The question never left: say so, with the contact routes and a button to ask it again. */
  private notDelivered(clientId: string, question: string): void {
    if (!this.streaming || !this.connection?.withdraw(clientId)) return; // sent: its answer will come
    this.streaming.el.remove();
    this.streaming = null;
    this.sendButton.disabled = false;
    const asked = [...this.state.messages].reverse().find((m) => m.role === "resident");
    if (asked) asked.unsent = true; // not in the server's history: kept when that history comes back
    this.add({ key: uid(), role: "notice", text: this.t("notDelivered"), tone: "error", name: "contact", question });
    if (this.lastState === "reconnecting") this.showBanner(FIXED.reconnecting);
  }

  private onMessage(message: ServerMessage): void {
    if (["token", "sources", "done", "error"].includes(message.type)) clearTimeout(this.deliveryTimer);
    switch (message.type) {
      case "ready":
        this.mergeHistory(message.history ?? []);
        break;
      case "token": {
        const current = this.streaming;
        if (!current) break;
        current.message.id ??= message.message_id;
        current.message.text += message.text;
        current.stream.replaceChildren(renderRichText(streamable(current.message.text)));
        this.scrollToEnd(true);
        break;
      }
      case "sources":
        if (this.streaming) {
          this.streaming.message.sources = message.sources;
        } else {
          const target = this.state.messages.find((m) => m.id === message.message_id);
          if (target) {
            target.sources = message.sources;
            this.rerender(target);
          }
        }
        break;
      case "done":
        this.finishStreaming(message);
        break;
      case "handover":
        this.onHandover(message.status, message.message ?? undefined);
        break;
      case "staff_message":
        this.add({ key: uid(), id: message.message_id, role: "staff", text: message.text, name: message.name ?? undefined, lang: "nl" });
        break;
      case "feedback_ok":
        break;
      case "error":
        this.onError(message.code, message.message, message.retry_after ?? null);
        break;
      case "pong":
        break;
    }
  }

  private onHandover(status: HandoverStatus, serverText?: string): void {
    this.state.handover = status;
    this.renderHandover(status);
    const shown = serverText || handoverText(status, this.address);
    // Without a text, the answer before it already said whether someone can take over.
    const saidAlready = !serverText && (status === "offered" || status === "unavailable");
    if (status !== "requested" && !saidAlready) this.add({ key: uid(), role: "notice", text: shown });
    this.save();
  }

  private onError(code: string, message: string | undefined, retryAfter: number | null): void {
    const pending = this.streaming;
    if (pending && !pending.message.text) {
      pending.el.remove();
      this.streaming = null;
      this.sendButton.disabled = false;
    }
    if (code === "unauthorized") return; // the connection asks for a new session by itself
    if (code === "rate_limited") {
      const seconds = Math.max(1, Math.round(retryAfter ?? 10));
      this.rateLimitedUntil = Date.now() + seconds * 1000;
      const shown = this.t("rateLimited", { s: seconds });
      this.showBanner(shown, true);
      this.add({ key: uid(), role: "notice", text: shown, tone: "error" });
      this.sendButton.disabled = true;
      clearTimeout(this.rateTimer);
      this.rateTimer = window.setTimeout(() => {
        this.sendButton.disabled = !!this.streaming;
        this.showBanner("");
      }, seconds * 1000);
      return;
    }
    const fallback = "Er ging iets mis. Probeer het opnieuw.";
    this.add({ key: uid(), role: "notice", text: message || fallback, tone: "error" });
  }

  private onInterrupted(): void {
    clearTimeout(this.deliveryTimer);
    const current = this.streaming;
    if (!current) return;
    this.streaming = null;
    this.sendButton.disabled = false;
    const message = current.message;
    message.interrupted = true;
    this.state.messages.push(message);
    this.save();
    current.el.replaceWith(this.renderMessage(message));
    this.scrollToEnd(); // the note and its button in view
  }

  private onState(state: ConnectionState): void {
    const previous = this.lastState;
    this.lastState = state;
    clearTimeout(this.bannerTimer);
    switch (state) {
      case "open":
      case "fallback":
        this.input.disabled = false;
        if (previous === "reconnecting" || previous === "offline") {
          this.showBanner(FIXED.restored);
          this.bannerTimer = window.setTimeout(() => this.showBanner(""), 4000);
        } else if ([FIXED.reconnecting, this.t("offline"), this.t("queued")].includes(this.banner.textContent ?? "")) {
          // Clear only what was said about the connection; other messages stay until they time out.
          this.showBanner("");
        }
        break;
      case "reconnecting":
        // A short hiccup needs no message; one that lasts does.
        this.bannerTimer = window.setTimeout(() => this.showBanner(FIXED.reconnecting), 1500);
        break;
      case "offline":
        this.showBanner(this.t("offline"), true);
        break;
      case "failed":
        this.showBanner(this.t("failed"), true);
        this.input.disabled = true;
        this.sendButton.disabled = true;
        break;
      case "connecting":
        break;
    }
  }

  /** After (re)connecting: the server's history is the truth; keep what the resident sees when it agrees. */
  private mergeHistory(history: HistoryItem[]): void {
    if (!history.length) return;
    const shown = this.state.messages.filter((m) => m.role !== "notice" && !m.interrupted && !m.unsent);
    // what the resident asked last that never reached the server, with what was said about it
    const firstUnsent = this.state.messages.findIndex((m) => m.unsent);
    const tail = firstUnsent < 0 ? [] : this.state.messages.slice(firstUnsent);
    const unsent = tail.every((m) => m.unsent || m.role === "notice") ? tail : [];
    const incoming: ShownMessage[] = history
      .filter((item) => typeof item.text === "string")
      .map((item) => {
        const role: ShownMessage["role"] =
          item.role === "assistant" || item.role === "staff" || item.role === "resident" ? item.role : "notice";
        const known = item.message_id ? shown.find((m) => m.id === item.message_id) : undefined;
        return {
          key: known?.key ?? uid(),
          id: item.message_id ?? undefined,
          role,
          text: item.text,
          sources: item.sources ?? undefined,
          lang: known?.lang ?? item.language ?? undefined,
          note: known?.note,
          noteLang: known?.noteLang,
          rating: known?.rating,
          commented: known?.commented,
          name: item.name ?? undefined,
        } satisfies ShownMessage;
      });
    const comparable = incoming.filter((m) => m.role !== "notice");
    const same =
      comparable.length === shown.length &&
      comparable.every((m, i) => m.role === shown[i].role && m.text.trim() === shown[i].text.trim());
    if (same) {
      comparable.forEach((m, i) => {
        if (m.id && !shown[i].id) shown[i].id = m.id;
      });
      this.save();
      return;
    }
    if (this.streaming) return; // an answer is on its way; do not disturb it
    this.state.messages = [...incoming, ...unsent];
    this.save();
    this.renderAll();
  }

  private rerender(message: ShownMessage): void {
    const el = this.log.querySelector(`[data-key="${message.key}"]`);
    el?.replaceWith(this.renderMessage(message));
    this.save();
  }

  private showBanner(message: string, error = false): void {
    if (this.banner.textContent !== message) this.banner.textContent = message;
    this.banner.classList.toggle("va-banner--error", error && !!message);
  }

  private scrollToEnd(onlyWhenNear = false): void {
    const el = this.scroller;
    if (!el) return;
    const near = el.scrollHeight - el.scrollTop - el.clientHeight < 120;
    if (!onlyWhenNear || near) el.scrollTop = el.scrollHeight;
  }

  private save(): void {
    this.store.save(this.state);
  }
}
