using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;

namespace Cadre.Common;

/// <summary>
/// Durations as people write them in definitions: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h30m</c>,
/// <c>2d</c>, or ISO-8601 (<c>PT30S</c>, <c>P1DT2H</c>).
/// </summary>
public static partial class Durations
{
    public const string Rule = "a duration such as 500ms, 30s, 5m, 1h30m, 2d or PT30S";

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text) || text.Length > 64)
        {
            return false;
        }

        if (text[0] == 'P')
        {
            try
            {
                duration = XmlConvert.ToTimeSpan(text);
                return duration >= TimeSpan.Zero;
            }
            catch (FormatException)
            {
                return false;
            }
            catch (OverflowException)
            {
                return false;
            }
        }

        var match = Compact().Match(text);
        if (!match.Success)
        {
            return false;
        }

        double total = 0;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unitAt = part.Value.IndexOfAny(['m', 's', 'h', 'd']);
            var amount = double.Parse(part.Value[..unitAt], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            total += part.Value[unitAt..] switch
            {
                "ms" => amount,
                "s" => amount * 1000,
                "m" => amount * 60_000,
                "h" => amount * 3_600_000,
                _ => amount * 86_400_000,
            };
        }

        if (total > TimeSpan.MaxValue.TotalMilliseconds)
        {
            return false;
        }

        duration = TimeSpan.FromMilliseconds(total);
        return true;
    }

    [GeneratedRegex(@"^(?:(?<part>\d{1,9}(?:\.\d{1,6})?(?:ms|s|m|h|d)))+$", RegexOptions.CultureInvariant)]
    private static partial Regex Compact();
}
