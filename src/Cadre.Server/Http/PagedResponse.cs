using Cadre.Common;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Mvc;

namespace Cadre.Server.Http;

/// <summary>The envelope of every list.</summary>
/// <param name="Count">How many items match the filters, across all pages.</param>
/// <param name="Next">URL of the next (older) page, or null on the last.</param>
/// <param name="Previous">URL of the previous (newer) page, or null on the first.</param>
/// <param name="Results">This page's items, newest first.</param>
public sealed record PagedResponse<T>(int Count, string? Next, string? Previous, IReadOnlyList<T> Results)
{
    /// <summary>Wraps a page, turning its cursors into links that keep the request's other query parameters.</summary>
    internal static PagedResponse<T> From(Page<T> page, HttpRequest request) =>
        new(page.TotalCount, Link(request, page.Next), Link(request, page.Previous), page.Items);

    private static string? Link(HttpRequest request, PageCursor? cursor)
    {
        if (cursor is null)
        {
            return null;
        }

        var query = new QueryBuilder(request.Query
            .Where(pair => !pair.Key.Equals("cursor", StringComparison.OrdinalIgnoreCase))
            .SelectMany(pair => pair.Value.Select(value => new KeyValuePair<string, string>(pair.Key, value ?? ""))))
        {
            { "cursor", cursor.Encode() },
        };
        return UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, request.Path, query.ToQueryString());
    }
}

/// <summary>The <c>limit</c> and <c>cursor</c> query parameters every list takes.</summary>
/// <param name="Limit">Items per page, 1–100 (default 50).</param>
/// <param name="Cursor">Opaque position from a previous response's <c>next</c> or <c>previous</c> link.</param>
public sealed record PageQuery([FromQuery(Name = "limit")] int? Limit, [FromQuery(Name = "cursor")] string? Cursor)
{
    /// <summary>Validates the parameters, adding to <paramref name="errors"/> what is wrong.</summary>
    internal PageRequest? ToRequest(ValidationErrors errors) => PageRequest.Parse(Limit, Cursor, errors);
}

internal static class Paging
{
    /// <summary>
    /// The body of every list endpoint: validates <c>limit</c> and <c>cursor</c>, loads one page and
    /// answers the list envelope, a 400 naming bad query parameters, or the service's own error.
    /// </summary>
    public static async Task<Results<Ok<PagedResponse<T>>, ProblemHttpResult>> PageAsync<T>(
        PageQuery query, HttpRequest request, Func<PageRequest, Task<ServiceResult<Page<T>>>> load)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(load);
        var errors = new ValidationErrors();
        if (query.ToRequest(errors) is not { } page)
        {
            return Problems.BadQuery(errors.ToDictionary());
        }

        var result = await load(page);
        return result switch
        {
            { Value: { } found } => TypedResults.Ok(PagedResponse<T>.From(found, request)),
            // A filter value the service refused is a bad query parameter, answered like limit and cursor.
            { Error: { Kind: ServiceErrorKind.Validation, Errors: { } fields } } => Problems.BadQuery(fields),
            _ => Problems.From(result.Error!),
        };
    }
}
