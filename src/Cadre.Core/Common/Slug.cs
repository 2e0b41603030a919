using System.Text.RegularExpressions;

namespace Cadre.Common;

/// <summary>The unique, URL-safe names resources are addressed by: lowercase letters, digits and dashes.</summary>
public static partial class Slug
{
    public const int MinLength = 3;
    public const int MaxLength = 63;

    public const string Rule = "3 to 63 characters: lowercase letters, digits and dashes, starting and ending with a letter or digit.";

    public static bool IsValid(string? value) =>
        value is { Length: >= MinLength and <= MaxLength } && Pattern().IsMatch(value);

    [GeneratedRegex(@"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
