using System.Text.RegularExpressions;

namespace Cadre.Server.Http;

/// <summary>
/// Rewords minimal APIs' binding failures, whose messages speak of C# parameters
/// ("Failed to bind parameter \"Nullable&lt;int&gt; Limit\" from \"abc\"."), as field errors
/// a client understands. Pinned by tests, so a reworded framework message shows up at once.
/// </summary>
internal static partial class ParameterBinding
{
    public sealed record Failure(string Name, string Message);

    public static Failure? Describe(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var bind = FailedToBind().Match(message);
        if (bind.Success)
        {
            var name = bind.Groups["name"].Value;
            var type = bind.Groups["type"].Value;
            var expected = type.Contains("int", StringComparison.OrdinalIgnoreCase) ? "an integer"
                : type.Contains("bool", StringComparison.OrdinalIgnoreCase) ? "true or false"
                : "a valid value";
            return new Failure(char.ToLowerInvariant(name[0]) + name[1..], $"Must be {expected}; got '{bind.Groups["value"].Value}'.");
        }

        if (MissingBody().IsMatch(message))
        {
            return new Failure("body", "The request needs a JSON object body; it was empty or null.");
        }

        return null;
    }

    [GeneratedRegex("^Failed to bind parameter \"(?<type>.+) (?<name>\\w+)\" from \"(?<value>.*)\"\\.$", RegexOptions.CultureInvariant)]
    private static partial Regex FailedToBind();

    [GeneratedRegex("^(Implicit body inferred for parameter|Required parameter \".+\" was not provided from body)", RegexOptions.CultureInvariant)]
    private static partial Regex MissingBody();
}
