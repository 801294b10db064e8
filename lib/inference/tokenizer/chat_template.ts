import { Template } from "@huggingface/jinja";
import { ChatTemplateError } from "./chat_template_error.ts";

/** One chat message; the API layer flattens multi-part content into a string. */
export interface ChatMessage {
  role: string;
  content: string;
}

/**
 * A model's Jinja chat template, compiled once. Rendering follows Hugging Face's
 * `apply_chat_template`: the template sees `messages`, `add_generation_prompt` and the
 * tokenizer's special tokens (`bos_token`, `eos_token`, ...).
 */
export class ChatTemplate {
  #template: Template;
  #origin: string;

  /**
   * @param source The Jinja source.
   * @param origin The file it came from, named in every error.
   * @throws {SyntaxError} When the template does not parse.
   */
  constructor(source: string, origin: string) {
    this.#origin = origin;
    try {
      this.#template = new Template(source);
    } catch (error) {
      throw new SyntaxError(
        `Cannot parse chat template from ${origin}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * Renders `messages` into the prompt text.
   *
   * @param variables Special tokens and other variables the template may read.
   * @throws {TypeError} When a message has no string role or content.
   * @throws {ChatTemplateError} When the template raises while rendering.
   */
  render(
    messages: readonly ChatMessage[],
    addGenerationPrompt: boolean,
    variables: Readonly<Record<string, unknown>>,
  ): string {
    messages.forEach((message, index) => {
      if (typeof message?.role !== "string" || typeof message.content !== "string") {
        throw new TypeError(`Cannot render chat: message ${index} needs a string role and content`);
      }
    });
    try {
      return this.#template.render({
        ...variables,
        messages: messages.map(({ role, content }) => ({ role, content })),
        add_generation_prompt: addGenerationPrompt,
      });
    } catch (error) {
      throw new ChatTemplateError(
        `Cannot render chat template from ${this.#origin}: ${messageOf(error)}`,
        { cause: error },
      );
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
