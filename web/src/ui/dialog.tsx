/**
 * A modal dialog on the native `<dialog>` element (focus trap, Escape, backdrop), used for
 * confirmations, the settings and the API key.
 * @module
 */
import type { ComponentChildren, JSX } from "preact";
import { useEffect, useRef } from "preact/hooks";

/** Props of {@linkcode Dialog}. */
export interface DialogProps {
  title: string;
  /** A short name for tests and screen readers. */
  name: string;
  children: ComponentChildren;
  onClose(): void;
}

/** A modal dialog, open while rendered. */
export function Dialog(props: DialogProps): JSX.Element {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      data-dialog={props.name}
      aria-label={props.title}
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) props.onClose();
      }}
    >
      <div class="dialog-body">
        <h2>{props.title}</h2>
        {props.children}
      </div>
    </dialog>
  );
}

/** Props of {@linkcode ConfirmDialog}. */
export interface ConfirmProps {
  title: string;
  name: string;
  children: ComponentChildren;
  confirm: string;
  danger?: boolean;
  onConfirm(): void;
  onClose(): void;
}

/** A yes/no question. */
export function ConfirmDialog(props: ConfirmProps): JSX.Element {
  return (
    <Dialog title={props.title} name={props.name} onClose={props.onClose}>
      <div class="dialog-text">{props.children}</div>
      <div class="dialog-actions">
        <button type="button" class="button ghost" onClick={props.onClose}>Cancel</button>
        <button
          type="button"
          class={`button ${props.danger ? "danger" : "primary"}`}
          data-confirm
          onClick={() => {
            props.onConfirm();
            props.onClose();
          }}
        >
          {props.confirm}
        </button>
      </div>
    </Dialog>
  );
}
