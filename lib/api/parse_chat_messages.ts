import { describe, invalidField, isJsonObject } from "./_fields.ts";
import type { ChatMessage } from "../inference/tokenizer/chat_template.ts";

/** Roles as the chat template sees them; OpenAI's "developer" is the older "system". */
const ROLES: Readonly<Record<string, string>> = {
  system: "system",
  developer: "system",
  user: "user",
  assistant: "assistant",
};

/**
 * Reads OpenAI's `messages`: a non-empty array of `{role, content}` where content is a
 * string or an array of text parts (joined with newlines). Other message fields (`name`,
 * `refusal`, ...) are ignored.
 *
 * @throws {ApiError} 400 naming the field at fault, e.g. `messages[1].content[0].type`.
 */
export function parseChatMessages(messages: unknown): ChatMessage[] {
  if (messages === undefined) throw invalidField("messages", "missing");
  if (!Array.isArray(messages)) {
    throw invalidField("messages", `must be an array, got ${describe(messages)}`);
  }
  if (messages.length === 0) throw invalidField("messages", "must not be empty");
  return messages.map((message, index) => parseMessage(message, `messages[${index}]`));
}

function parseMessage(message: unknown, path: string): ChatMessage {
  if (!isJsonObject(message)) {
    throw invalidField(path, `must be an object, got ${describe(message)}`);
  }
  const role = message.role;
  if (role === undefined || role === null) throw invalidField(`${path}.role`, "missing");
  if (typeof role !== "string" || !Object.hasOwn(ROLES, role)) {
    throw invalidField(
      `${path}.role`,
      `must be one of system, developer, user, assistant, got ${describe(role)}`,
    );
  }
  const content = message.content;
  if ((content === null || content === undefined) && role === "assistant") {
    return { role: ROLES[role], content: "" };
  }
  return { role: ROLES[role], content: parseContent(content, `${path}.content`) };
}

function parseContent(content: unknown, path: string): string {
  if (typeof content === "string") return content;
  if (content === undefined || content === null) throw invalidField(path, "missing");
  if (!Array.isArray(content)) {
    throw invalidField(
      path,
      `must be a string or an array of text parts, got ${describe(content)}`,
    );
  }
  if (content.length === 0) throw invalidField(path, "must not be an empty array");
  return content.map((part, index) => {
    const partPath = `${path}[${index}]`;
    if (!isJsonObject(part)) {
      throw invalidField(partPath, `must be an object, got ${describe(part)}`);
    }
    if (part.type !== "text") {
      throw invalidField(
        `${partPath}.type`,
        `only "text" content parts are supported, got ${describe(part.type)}`,
      );
    }
    if (typeof part.text !== "string") {
      throw invalidField(`${partPath}.text`, `must be a string, got ${describe(part.text)}`);
    }
    return part.text;
  }).join("\n");
}
