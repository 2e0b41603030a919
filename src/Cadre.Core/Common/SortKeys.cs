using System.Globalization;

namespace Cadre.Common;

/// <summary>Cursor encodings for the sort keys of lists (<see cref="SortKey{T, TSort}"/>).</summary>
public static class SortKeys
{
    public static string Text(string value) => value;

    public static bool TryText(string text, out string value)
    {
        value = text;
        return true;
    }

    public static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static bool TryNumber(string text, out int value) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);

    public static string Time(DateTime value) => value.Ticks.ToString(CultureInfo.InvariantCulture);

    public static bool TryTime(string text, out DateTime value)
    {
        var ok = long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks >= 0 && ticks <= DateTime.MaxValue.Ticks;
        value = ok ? new DateTime(ticks, DateTimeKind.Utc) : default;
        return ok;
    }

    /// <summary>The first of <c>name-copy</c>, <c>name-copy-2</c>, … not in <paramref name="taken"/> (the stem cut so the result stays a valid slug).</summary>
    public static string CopyName(string name, IReadOnlyCollection<string> taken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(taken);
        var stem = CopyStem(name);
        var candidate = $"{stem}-copy";
        for (var n = 2; taken.Contains(candidate); n++)
        {
            candidate = $"{stem}-copy-{n}";
        }

        return candidate;
    }

    public static string CopyStem(string name) => name.Length <= 50 ? name : name[..50].TrimEnd('-');
}
