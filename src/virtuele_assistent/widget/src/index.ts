// Entry point: registers <virtuele-assistent>. Load with one script tag from the API server:
//   <script src="https://assistent.example.nl/widget.js" defer></script>
//   <virtuele-assistent tenant="voorbeeldstad"></virtuele-assistent>

import { VirtueleAssistentElement } from "./element";

declare const __VERSION__: string;

if (!customElements.get("virtuele-assistent")) {
  customElements.define("virtuele-assistent", VirtueleAssistentElement);
}

(window as unknown as { VirtueleAssistent?: object }).VirtueleAssistent = { version: __VERSION__ };
