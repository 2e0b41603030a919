import { useCallback, useLayoutEffect, useRef, type ReactNode, type TextareaHTMLAttributes } from "react";
import { FieldFrame, useField } from "./Field";

/** A run of the text, marked (a `<mark>` with the class) or not. */
export interface Highlight {
  text: string;
  className?: string;
}

export interface HighlightedTextAreaProps extends Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "value"> {
  label: string;
  value: string;
  /** Cuts the text into runs, in order, that together are exactly the text; runs with a class are marked. */
  highlight: (text: string) => Highlight[];
  errors?: string[];
  hint?: string;
}

// What decides where the text wraps and how tall it is: the backdrop takes the text area's own values.
const typography = [
  "fontFamily", "fontSize", "fontWeight", "fontStyle", "fontVariant", "lineHeight", "letterSpacing", "wordSpacing", "tabSize",
  "textIndent", "textTransform", "whiteSpace", "overflowWrap", "wordBreak",
  "paddingTop", "paddingRight", "paddingBottom", "paddingLeft",
  "borderTopWidth", "borderRightWidth", "borderBottomWidth", "borderLeftWidth", "borderRadius", "boxSizing",
] as const;

/**
 * A labelled text area whose runs of text (placeholders, say) are marked in place. The text area stays the real,
 * accessible control: its background is transparent, and behind it an `aria-hidden` backdrop renders the same text,
 * invisible, with `<mark>`s whose backgrounds show through. The backdrop copies the text area's font, padding and
 * borders, leaves room for its scroll bar, and follows its scrolling and resizing, so each mark sits under its text.
 */
export function HighlightedTextArea({ label, value, highlight, errors, hint, id, className, onScroll, ...rest }: HighlightedTextAreaProps) {
  const { inputId, controlProps } = useField(id, hint, errors);
  const area = useRef<HTMLTextAreaElement>(null);
  const backdrop = useRef<HTMLDivElement>(null);

  const follow = useCallback(() => {
    const a = area.current, b = backdrop.current;
    if (!a || !b) return;
    const style = getComputedStyle(a);
    for (const property of typography) b.style[property] = style[property];
    // A scroll bar narrows the text area's text, not the backdrop's: the backdrop's right padding takes its width.
    const scrollBar = a.offsetWidth - a.clientWidth - parseFloat(style.borderLeftWidth) - parseFloat(style.borderRightWidth);
    b.style.paddingRight = `${parseFloat(style.paddingRight) + Math.max(0, scrollBar)}px`;
    b.scrollTop = a.scrollTop;
    b.scrollLeft = a.scrollLeft;
  }, []);

  useLayoutEffect(follow, [follow, value]);
  useLayoutEffect(() => {
    const a = area.current;
    if (!a || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(follow);
    observer.observe(a);
    return () => observer.disconnect();
  }, [follow]);

  const runs: ReactNode[] = highlight(value).map((run, i) => (run.className ? <mark key={i} className={run.className}>{run.text}</mark> : run.text));
  return (
    <FieldFrame inputId={inputId} label={label} hint={hint} errors={errors} className={className}>
      <div className="highlight-area">
        <div ref={backdrop} className="highlight-backdrop" aria-hidden="true">
          {runs}
          {/* A last line break needs a character after it to take up its line, as it does in the text area. */}
          {"\u200b"}
        </div>
        <textarea {...rest} {...controlProps} ref={area} value={value} onScroll={(e) => { follow(); onScroll?.(e); }} />
      </div>
    </FieldFrame>
  );
}
