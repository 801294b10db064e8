/**
 * The web chat page's entry: renders the app into the page the node serves.
 * @module
 */
import { render } from "preact";
import { App } from "./ui/app.tsx";

render(<App />, document.getElementById("app")!);
