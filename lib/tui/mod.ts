/**
 * The terminal view of the cluster: a pure renderer from a view model to screen lines,
 * and the terminal screen that draws them.
 * @module
 */
export * from "./view_model.ts";
export * from "./styled_text.ts";
export * from "./render_screen.ts";
