/** A persona's picture: its avatar, else its icon on its colour, else its initial. Decorative: the name is always next to it. */
export function PersonaMark({ persona, size = "normal" }: {
  persona: { name: string; displayName?: string | null; avatarUrl?: string | null; color?: string | null; icon?: string | null };
  size?: "normal" | "large";
}) {
  const style = persona.color ? { background: persona.color, borderColor: persona.color } : undefined;
  const initial = (persona.displayName || persona.name).slice(0, 1).toUpperCase();
  return (
    <span className={`persona-mark persona-mark-${size}${persona.color ? " persona-mark-coloured" : ""}`} style={style} aria-hidden="true">
      {persona.avatarUrl ? <img src={persona.avatarUrl} alt="" /> : persona.icon && [...persona.icon].length <= 2 ? persona.icon : initial}
    </span>
  );
}
