using Cadre.Common;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace Cadre.Server.Http;

/// <summary>Strong ETags made from a resource's version (<c>"3"</c>), and the <c>If-Match</c> preconditions they answer.</summary>
internal static class ETags
{
    public static string For(int version) => $"\"{version}\"";

    /// <summary>A read of a versioned resource: 200 with its ETag, or 404 saying <paramref name="notFound"/>.</summary>
    public static Results<Ok<T>, ProblemHttpResult> Found<T>(T? found, Func<T, int> version, string notFound, HttpResponse response)
        where T : class =>
        found is null ? Problems.NotFound(notFound) : Tagged(found, version, response);

    /// <summary>A change to a versioned resource: 200 with its new ETag, or the service's problem.</summary>
    public static Results<Ok<T>, ProblemHttpResult> Ok<T>(ServiceResult<T> result, Func<T, int> version, HttpResponse response) =>
        result.Value is { } value ? Tagged(value, version, response) : Problems.From(result.Error!);

    /// <summary>A created versioned resource: 201 at <paramref name="location"/> with its ETag, or the service's problem.</summary>
    public static Results<Created<T>, ProblemHttpResult> Created<T>(ServiceResult<T> result, Func<T, int> version, Func<T, string> location, HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(response);
        if (result.Value is not { } created)
        {
            return Problems.From(result.Error!);
        }

        response.Headers.ETag = For(version(created));
        return TypedResults.Created(location(created), created);
    }

    private static Ok<T> Tagged<T>(T value, Func<T, int> version, HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.ETag = For(version(value));
        return TypedResults.Ok(value);
    }

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
