// The widget's styles. Every colour, font, radius and spacing is a `--va-*` custom property whose
// default is the matching NL Design System token when the host page defines it (custom properties
// cross the shadow boundary), and a neutral value otherwise. docs/widget.md lists the mapping.

export const TOKENS: Record<string, string> = {
  "--va-font-family":
    'var(--utrecht-document-font-family, var(--nl-document-font-family, system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif))',
  "--va-font-size": "var(--utrecht-document-font-size, var(--nl-document-font-size, 1rem))",
  "--va-line-height": "var(--utrecht-document-line-height, 1.5)",
  "--va-font-size-small": "var(--utrecht-paragraph-small-font-size, 0.875rem)",
  "--va-color-text": "var(--utrecht-document-color, var(--nl-document-color, #1a1a1a))",
  "--va-color-text-muted": "var(--utrecht-color-grey-30, #4d4d4d)",
  "--va-color-background": "var(--utrecht-document-background-color, var(--nl-document-background-color, #ffffff))",
  "--va-color-surface": "var(--utrecht-color-grey-95, #f3f4f6)",
  "--va-color-border": "var(--utrecht-textbox-border-color, #6b6b6b)",
  "--va-color-primary":
    "var(--nl-button-primary-background-color, var(--utrecht-button-primary-action-background-color, #1f4e79))",
  "--va-color-primary-text":
    "var(--nl-button-primary-color, var(--utrecht-button-primary-action-color, #ffffff))",
  "--va-color-primary-hover":
    "var(--nl-button-primary-hover-background-color, var(--utrecht-button-primary-action-hover-background-color, #163a5b))",
  "--va-color-link": "var(--nl-link-color, var(--utrecht-link-color, #1f4e79))",
  "--va-color-link-hover": "var(--nl-link-hover-color, var(--utrecht-link-hover-color, #0f2a44))",
  "--va-color-focus": "var(--utrecht-focus-outline-color, var(--nl-focus-outline-color, #1a1a1a))",
  "--va-color-focus-background": "var(--utrecht-focus-background-color, #ffdd00)",
  "--va-color-resident": "var(--utrecht-color-blue-90, #e6eef6)",
  "--va-color-notice": "var(--utrecht-alert-info-background-color, #fff4cc)",
  "--va-color-error": "var(--utrecht-alert-error-background-color, #fde8e8)",
  "--va-color-error-text": "var(--utrecht-alert-error-color, #8a1c1c)",
  "--va-radius": "var(--utrecht-border-radius-md, var(--basis-border-radius-md, 0.5rem))",
  "--va-radius-button": "var(--utrecht-button-border-radius, var(--nl-button-border-radius, 0.375rem))",
  "--va-space-xs": "var(--utrecht-space-block-xs, var(--basis-space-block-xs, 0.25rem))",
  "--va-space-sm": "var(--utrecht-space-block-sm, var(--basis-space-block-sm, 0.5rem))",
  "--va-space-md": "var(--utrecht-space-block-md, var(--basis-space-block-md, 0.75rem))",
  "--va-space-lg": "var(--utrecht-space-block-lg, var(--basis-space-block-lg, 1rem))",
  "--va-focus-width": "var(--utrecht-focus-outline-width, 3px)",
  "--va-panel-width": "25rem",
  "--va-panel-height": "40rem",
  "--va-shadow": "0 0.5rem 2rem rgb(0 0 0 / 25%)",
  "--va-z-index": "2147483000",
};

const tokenBlock = Object.entries(TOKENS)
  .map(([name, value]) => `${name}: ${value};`)
  .join("\n");

export const CSS = `
:host {
${tokenBlock}
  all: initial;
  display: block;
  font-family: var(--va-font-family);
  font-size: var(--va-font-size);
  line-height: var(--va-line-height);
  color: var(--va-color-text);
}
:host([hidden]) { display: none; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.va-sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
button, textarea { font: inherit; color: inherit; }
a { color: var(--va-color-link); text-decoration: underline; text-underline-offset: 0.15em; }
a:hover { color: var(--va-color-link-hover); text-decoration-thickness: 2px; }
:focus-visible {
  outline: var(--va-focus-width) solid var(--va-color-focus);
  outline-offset: 2px;
  box-shadow: 0 0 0 calc(var(--va-focus-width) + 2px) var(--va-color-background);
}
a:focus-visible { background: var(--va-color-focus-background); color: #1a1a1a; box-shadow: none; }

.va-button {
  display: inline-flex; align-items: center; justify-content: center; gap: var(--va-space-xs);
  min-height: 2.75rem; min-width: 2.75rem; padding: var(--va-space-sm) var(--va-space-md);
  border: 2px solid var(--va-color-primary); border-radius: var(--va-radius-button);
  background: var(--va-color-primary); color: var(--va-color-primary-text);
  cursor: pointer; font-weight: 600; text-align: center;
}
.va-button:hover { background: var(--va-color-primary-hover); border-color: var(--va-color-primary-hover); }
.va-button[disabled] { cursor: not-allowed; opacity: 0.65; }
.va-button--secondary { background: var(--va-color-background); color: var(--va-color-primary); }
.va-button--secondary:hover { background: var(--va-color-surface); color: var(--va-color-primary-hover); }
.va-button--small { min-height: 2rem; min-width: 2rem; padding: var(--va-space-xs) var(--va-space-sm); font-size: var(--va-font-size-small); }
.va-icon { width: 1.25em; height: 1.25em; flex: none; fill: currentColor; }

/* Launcher */
.va-launcher {
  position: fixed; right: var(--va-space-lg); bottom: var(--va-space-lg); z-index: var(--va-z-index);
  border-radius: 999px; padding: var(--va-space-sm) var(--va-space-lg); box-shadow: var(--va-shadow);
  min-height: 3rem;
}

/* Panel */
.va-panel {
  display: flex; flex-direction: column; overflow: hidden;
  background: var(--va-color-background); color: var(--va-color-text);
}
.va-panel--floating {
  position: fixed; z-index: var(--va-z-index);
  inset: 0; width: 100%; height: 100%;
  height: var(--va-viewport-height, 100%);
  top: var(--va-viewport-top, 0);
}
/* Keep in step with DESKTOP_MEDIA in element.ts. */
@media (min-width: 40em) and (min-height: 34em) {
  .va-panel--floating {
    inset: auto; top: auto; right: var(--va-space-lg); bottom: calc(var(--va-space-lg) + 3.75rem);
    width: min(var(--va-panel-width), calc(100vw - 2 * var(--va-space-lg)));
    height: min(var(--va-panel-height), calc(100vh - 6rem));
    border: 1px solid var(--va-color-border); border-radius: var(--va-radius); box-shadow: var(--va-shadow);
  }
  .va-panel--floating { animation: va-in 160ms ease-out; }
}
.va-panel--inline {
  position: relative; width: 100%; height: var(--va-inline-height, 36rem); max-height: 100%;
  border: 1px solid var(--va-color-border); border-radius: var(--va-radius);
}
@keyframes va-in { from { opacity: 0; transform: translateY(0.5rem); } to { opacity: 1; transform: none; } }

.va-header {
  display: flex; align-items: center; gap: var(--va-space-sm);
  padding: var(--va-space-sm) var(--va-space-md);
  background: var(--va-color-primary); color: var(--va-color-primary-text);
}
.va-header-text { flex: 1; min-width: 0; }
.va-title { margin: 0; font-size: 1.125em; line-height: 1.3; }
.va-subtitle { margin: 0; font-size: var(--va-font-size-small); }
.va-close {
  border-color: var(--va-color-primary-text); background: transparent; color: var(--va-color-primary-text);
}
.va-close:hover { background: var(--va-color-primary-hover); }
.va-header :focus-visible { outline-color: var(--va-color-primary-text); box-shadow: none; }

.va-banner {
  margin: 0; padding: var(--va-space-sm) var(--va-space-md);
  background: var(--va-color-notice); color: #1a1a1a; border-bottom: 1px solid var(--va-color-border);
  font-size: var(--va-font-size-small);
}
.va-banner:empty { display: none; }
.va-banner--error { background: var(--va-color-error); color: var(--va-color-error-text); }

.va-scroll {
  flex: 1; overflow-y: auto; overflow-x: hidden; overscroll-behavior: contain;
  padding: var(--va-space-md); display: flex; flex-direction: column; gap: var(--va-space-md);
}
.va-intro { display: flex; flex-direction: column; gap: var(--va-space-sm); }
.va-intro p { margin: 0; }
.va-note { font-size: var(--va-font-size-small); color: var(--va-color-text-muted); }
.va-log { display: flex; flex-direction: column; gap: var(--va-space-md); }

.va-msg {
  max-width: 100%; padding: var(--va-space-sm) var(--va-space-md); border-radius: var(--va-radius);
  overflow-wrap: anywhere; word-break: normal;
}
.va-msg p { margin: 0 0 var(--va-space-sm); }
.va-msg p:last-child, .va-msg ul:last-child, .va-msg ol:last-child { margin-bottom: 0; }
.va-msg ul, .va-msg ol { margin: 0 0 var(--va-space-sm); padding-left: 1.25em; }
.va-msg--resident { align-self: flex-end; background: var(--va-color-resident); margin-left: 2rem; white-space: pre-wrap; }
.va-msg--assistant, .va-msg--staff { align-self: stretch; background: var(--va-color-surface); }
.va-msg--notice { align-self: stretch; background: var(--va-color-notice); color: #1a1a1a; font-size: var(--va-font-size-small); }
.va-table { width: 100%; border-collapse: collapse; margin: 0 0 var(--va-space-sm); font-size: var(--va-font-size-small); }
.va-table caption { text-align: left; font-weight: 600; padding-bottom: var(--va-space-xs); }
.va-table th, .va-table td {
  border: 1px solid var(--va-color-border); padding: var(--va-space-xs) var(--va-space-sm);
  text-align: left; vertical-align: top; overflow-wrap: anywhere;
}
.va-table th { background: var(--va-color-background); overflow-wrap: normal; }
.va-who { display: block; font-size: var(--va-font-size-small); font-weight: 600; margin-bottom: var(--va-space-xs); }
.va-stream { white-space: pre-wrap; }
.va-cite { font-size: 0.875em; line-height: 0; }
.va-new-tab { margin-left: 0.15em; font-size: 0.875em; text-decoration: none; display: inline-block; }
.va-cite a { display: inline-block; min-width: 1.5rem; min-height: 1.5rem; line-height: 1.5rem; text-align: center; }

.va-typing { display: inline-flex; gap: 0.25rem; padding: var(--va-space-xs) 0; }
.va-typing span {
  width: 0.5rem; height: 0.5rem; border-radius: 50%; background: var(--va-color-text-muted);
  animation: va-dot 1.2s infinite ease-in-out;
}
.va-typing span:nth-child(2) { animation-delay: 0.15s; }
.va-typing span:nth-child(3) { animation-delay: 0.3s; }
@keyframes va-dot { 0%, 80%, 100% { opacity: 0.3; transform: none; } 40% { opacity: 1; transform: translateY(-0.2rem); } }

.va-sources { margin-top: var(--va-space-sm); padding-top: var(--va-space-sm); border-top: 1px solid var(--va-color-border); font-size: var(--va-font-size-small); }
.va-sources-title { margin: 0 0 var(--va-space-xs); font-weight: 600; }
.va-sources ol { margin: 0; padding-left: 1.5em; }
.va-sources li { margin: var(--va-space-xs) 0; }
.va-sources a { display: inline-block; min-height: 1.5rem; }

.va-feedback { display: flex; flex-wrap: wrap; align-items: center; gap: var(--va-space-sm); margin-top: var(--va-space-sm); font-size: var(--va-font-size-small); }
.va-feedback-question { margin: 0; }
.va-thumb[aria-pressed="true"] { background: var(--va-color-primary); color: var(--va-color-primary-text); }
.va-comment { display: flex; flex-direction: column; gap: var(--va-space-xs); width: 100%; }
.va-comment label { font-weight: 600; }
.va-comment-actions { display: flex; gap: var(--va-space-sm); flex-wrap: wrap; }
.va-retry { margin-top: var(--va-space-sm); }

.va-suggestions { display: flex; flex-direction: column; gap: var(--va-space-xs); }
.va-suggestions-title { margin: 0; font-size: var(--va-font-size-small); font-weight: 600; }
.va-suggestions ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: var(--va-space-sm); }
.va-suggestions .va-button { font-weight: 400; text-align: left; justify-content: flex-start; }

.va-contact { margin: var(--va-space-xs) 0 0; padding-left: 1.25em; }

.va-footer { border-top: 1px solid var(--va-color-border); padding: var(--va-space-sm) var(--va-space-md) var(--va-space-md); display: flex; flex-direction: column; gap: var(--va-space-sm); }
.va-handover-row { display: flex; flex-wrap: wrap; align-items: center; gap: var(--va-space-sm); }
.va-forget { display: flex; flex-wrap: wrap; align-items: center; gap: var(--va-space-sm); }
.va-forget p { margin: 0; flex-basis: 100%; }
.va-handover-status { font-size: var(--va-font-size-small); }
.va-form { display: flex; gap: var(--va-space-sm); align-items: flex-end; }
.va-input {
  flex: 1; min-width: 0; min-height: 2.75rem; max-height: 8rem; resize: none;
  padding: var(--va-space-sm); border: 2px solid var(--va-color-border); border-radius: var(--va-radius-button);
  background: var(--va-color-background); color: var(--va-color-text);
}
.va-textarea {
  width: 100%; min-height: 4rem; padding: var(--va-space-sm); resize: vertical;
  border: 2px solid var(--va-color-border); border-radius: var(--va-radius-button);
  background: var(--va-color-background); color: var(--va-color-text);
}
.va-counter { font-size: var(--va-font-size-small); color: var(--va-color-text-muted); margin: 0; }
/* A short screen (400% zoom, a phone with its keyboard open): the header and footer take less, so the
   question field and part of the conversation stay in view. */
@media (max-height: 30em) {
  .va-subtitle { display: none; }
  .va-header { padding-top: var(--va-space-xs); padding-bottom: var(--va-space-xs); }
  .va-scroll { padding-top: var(--va-space-sm); padding-bottom: var(--va-space-sm); }
  .va-footer { padding-top: var(--va-space-xs); padding-bottom: var(--va-space-sm); gap: var(--va-space-xs); }
}

@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; scroll-behavior: auto !important; }
}
@media (forced-colors: active) {
  .va-button, .va-msg, .va-panel { border: 1px solid CanvasText; }
}
`;
