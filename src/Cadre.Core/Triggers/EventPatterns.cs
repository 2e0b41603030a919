namespace Cadre.Triggers;

/// <summary>Event-type patterns of triggers: a name, or a glob where <c>*</c> stands for any run of characters (<c>ticket.*</c>, <c>*.failed</c>, <c>*</c>).</summary>
public static class EventPatterns
{
    public static bool Matches(string pattern, string type)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(type);
        if (!pattern.Contains('*', StringComparison.Ordinal))
        {
            return string.Equals(pattern, type, StringComparison.Ordinal);
        }

        // Greedy glob with backtracking to the last star: linear enough for names of at most 200 characters.
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < type.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (p < pattern.Length && pattern[p] == type[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
