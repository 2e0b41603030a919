using Cadre.Common;
using Microsoft.Net.Http.Headers;

namespace Cadre.Server.Http;

/// <summary>Strong ETags made from a resource's version (<c>"3"</c>), and the <c>If-Match</c> preconditions they answer.</summary>
internal static class ETags
{
    public static string For(int version) => $"\"{version}\"";

    /// <summary>
    /// Reads <c>If-Match</c>: null when absent or <c>*</c> (the resource exists, which the handler
    /// checks anyway); otherwise the versions it names. Weak tags never match, as RFC 9110 requires.
    /// </summary>
    public static VersionPrecondition? IfMatch(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.IfMatch;
        if (header.Count == 0)
        {
            return null;
        }

        if (!EntityTagHeaderValue.TryParseList(header, out var tags))
        {
            return new VersionPrecondition(new HashSet<int>());
        }

        if (tags.Any(tag => tag.Equals(EntityTagHeaderValue.Any)))
        {
            return null;
        }

        var versions = new HashSet<int>();
        foreach (var tag in tags)
        {
            if (!tag.IsWeak && int.TryParse(tag.Tag.AsSpan().Trim('"'), out var version))
            {
                versions.Add(version);
            }
        }

        return new VersionPrecondition(versions);
    }
}
