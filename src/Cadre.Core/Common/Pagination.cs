using System.Globalization;
using System.Buffers.Text;
using System.Linq.Expressions;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Common;

/// <summary>
/// Where a page starts: after (older than) or before (newer than) a key, encoded as an opaque,
/// URL-safe token so clients never build one themselves.
/// </summary>
public sealed record PageCursor(string Key, bool Backward, string? Sort = null, string? SortValue = null)
{
    private const int MaxKeyLength = 200;

    public string Encode()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new CursorPayload(Key, Backward ? "p" : "n", Sort, SortValue));
        return Base64Url.EncodeToString(json);
    }

    public static bool TryDecode(string token, out PageCursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(token) || token.Length > 4 * MaxKeyLength)
        {
            return false;
        }

        try
        {
            var payload = JsonSerializer.Deserialize<CursorPayload>(Base64Url.DecodeFromChars(token));
            if (payload is not { K.Length: > 0 and <= MaxKeyLength, D: "n" or "p" })
            {
                return false;
            }

            if (payload.S is { Length: > 1000 } || (payload.O is null) != (payload.S is null))
            {
                return false;
            }

            cursor = new PageCursor(payload.K, payload.D == "p", payload.O, payload.S);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or JsonException or DecoderFallbackException)
        {
            return false;
        }
    }

    private sealed record CursorPayload(
        string K,
        string D,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? O = null,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? S = null);
}

/// <summary>A validated page request: how many items and from where.</summary>
public sealed record PageRequest(int Limit, PageCursor? Cursor)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 100;

    public static PageRequest First { get; } = new(DefaultLimit, null);

    /// <summary>Validates the <c>limit</c> and <c>cursor</c> query parameters, naming each bad one in <paramref name="errors"/>.</summary>
    public static PageRequest? Parse(int? limit, string? cursor, ValidationErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (limit is < 1 or > MaxLimit)
        {
            errors.Add("limit", $"Must be between 1 and {MaxLimit}.");
        }

        PageCursor? decoded = null;
        if (cursor is not null && !PageCursor.TryDecode(cursor, out decoded))
        {
            errors.Add("cursor", "Is not a cursor this API issued; use the 'next' or 'previous' link of a list response.");
        }

        return errors.IsEmpty ? new PageRequest(limit ?? DefaultLimit, decoded) : null;
    }
}

/// <summary>
/// One page of a list, newest first, with how many items match in all and cursors to the
/// neighbouring pages (null at either end).
/// </summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int TotalCount, PageCursor? Next, PageCursor? Previous)
{
    public Page<TOut> Map<TOut>(Func<T, TOut> map) => new(Items.Select(map).ToList(), TotalCount, Next, Previous);
}

public static class KeysetPagination
{
    /// <summary>
    /// The same paging over a small list already in memory, ordered by <paramref name="key"/>
    /// ascending (for registries that join built-in entries with stored ones).
    /// </summary>
    public static Page<T> ToPage<T>(IReadOnlyList<T> ascending, Func<T, string> key, PageRequest page)
    {
        ArgumentNullException.ThrowIfNull(ascending);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(page);
        var cursor = page.Cursor;
        if (cursor is { Backward: true })
        {
            var before = ascending.Where(item => string.CompareOrdinal(key(item), cursor.Key) < 0).ToList();
            var items = before.TakeLast(page.Limit).ToList();
            return new Page<T>(
                items,
                ascending.Count,
                items.Count > 0 ? new PageCursor(key(items[^1]), Backward: false) : null,
                before.Count > page.Limit ? new PageCursor(key(items[0]), Backward: true) : null);
        }

        var after = cursor is null ? ascending : ascending.Where(item => string.CompareOrdinal(key(item), cursor.Key) > 0).ToList();
        var pageItems = after.Take(page.Limit).ToList();
        return new Page<T>(
            pageItems,
            ascending.Count,
            after.Count > page.Limit ? new PageCursor(key(pageItems[^1]), Backward: false) : null,
            cursor is not null && pageItems.Count > 0 ? new PageCursor(key(pageItems[0]), Backward: true) : null);
    }

    /// <summary>
    /// Reads one page ordered by a numeric, increasing key, oldest first: for histories (a run's
    /// attempts and events), which read in the order they happened. A cursor that is not such a key
    /// is a validation error.
    /// </summary>
    public static async Task<ServiceResult<Page<TOut>>> ToAscendingPageAsync<T, TOut>(
        this IQueryable<T> query, Expression<Func<T, long>> key, PageRequest page, Func<T, TOut> map, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(map);
        var getKey = key.Compile();
        long? from = null;
        if (page.Cursor is { } cursor)
        {
            if (!long.TryParse(cursor.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return ServiceError.Validation("cursor", "Is not a cursor this API issued; use the 'next' or 'previous' link of a list response.");
            }

            from = parsed;
        }

        var total = await query.CountAsync(cancellationToken);
        var parameter = key.Parameters[0];
        if (page.Cursor is { Backward: true })
        {
            var before = Expression.Lambda<Func<T, bool>>(Expression.LessThan(key.Body, Expression.Constant(from!.Value)), parameter);
            var older = await query.Where(before).OrderByDescending(key).Take(page.Limit + 1).ToListAsync(cancellationToken);
            var items = older.Take(page.Limit).Reverse().ToList();
            return new Page<TOut>(
                [.. items.Select(map)],
                total,
                items.Count > 0 ? new PageCursor(getKey(items[^1]).ToString(CultureInfo.InvariantCulture), Backward: false) : null,
                older.Count > page.Limit ? new PageCursor(getKey(items[0]).ToString(CultureInfo.InvariantCulture), Backward: true) : null);
        }

        var filtered = from is { } start
            ? query.Where(Expression.Lambda<Func<T, bool>>(Expression.GreaterThan(key.Body, Expression.Constant(start)), parameter))
            : query;
        var newer = await filtered.OrderBy(key).Take(page.Limit + 1).ToListAsync(cancellationToken);
        var pageItems = newer.Take(page.Limit).ToList();
        return new Page<TOut>(
            [.. pageItems.Select(map)],
            total,
            newer.Count > page.Limit ? new PageCursor(getKey(pageItems[^1]).ToString(CultureInfo.InvariantCulture), Backward: false) : null,
            from is not null && pageItems.Count > 0 ? new PageCursor(getKey(pageItems[0]).ToString(CultureInfo.InvariantCulture), Backward: true) : null);
    }

    /// <summary>
    /// Reads one page ordered by a unique, time-ordered string key, newest first. Keyset rather
    /// than offset paging, so inserts and deletes between requests neither repeat nor skip items.
    /// </summary>
    public static async Task<Page<T>> ToPageAsync<T>(
        this IQueryable<T> query,
        Expression<Func<T, string>> key,
        PageRequest page,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(page);

        var getKey = key.Compile();
        var total = await query.CountAsync(cancellationToken);
        var cursor = page.Cursor;
        if (cursor is { Backward: true })
        {
            // Newer than the key, read oldest-first so the page adjoins the cursor, then flipped.
            var newer = await query.Where(Compare(key, cursor.Key, ExpressionType.GreaterThan))
                .OrderBy(key).Take(page.Limit + 1).ToListAsync(cancellationToken);
            var hasNewer = newer.Count > page.Limit;
            var items = newer.Take(page.Limit).Reverse().ToList();
            return new Page<T>(
                items,
                total,
                items.Count > 0 ? new PageCursor(getKey(items[^1]), Backward: false) : null,
                hasNewer ? new PageCursor(getKey(items[0]), Backward: true) : null);
        }

        var filtered = cursor is null ? query : query.Where(Compare(key, cursor.Key, ExpressionType.LessThan));
        var older = await filtered.OrderByDescending(key).Take(page.Limit + 1).ToListAsync(cancellationToken);
        var hasOlder = older.Count > page.Limit;
        var pageItems = older.Take(page.Limit).ToList();
        return new Page<T>(
            pageItems,
            total,
            hasOlder ? new PageCursor(getKey(pageItems[^1]), Backward: false) : null,
            cursor is not null && pageItems.Count > 0 ? new PageCursor(getKey(pageItems[0]), Backward: true) : null);
    }

    /// <summary>
    /// Reads one page ordered by a sort key and then the unique ID (a keyset on both), for lists a
    /// person may sort by name or by date. The cursor remembers the sort it was made for; one from
    /// another sort is refused (null), so a client cannot mix pages of two orders.
    /// </summary>
    public static async Task<Page<T>?> ToSortedPageAsync<T, TSort>(
        this IQueryable<T> query,
        SortKey<T, TSort> sort,
        Expression<Func<T, string>> id,
        PageRequest page,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(sort);
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(page);
        var cursor = page.Cursor;
        if (cursor is not null && (cursor.Sort != sort.Name || cursor.SortValue is null || !sort.TryDecode(cursor.SortValue, out _)))
        {
            return null;
        }

        var total = await query.CountAsync(cancellationToken);
        var getSort = sort.Key.Compile();
        var getId = id.Compile();
        var backward = cursor is { Backward: true };
        // Reading backwards walks the opposite order, then flips the page.
        var descending = sort.Descending != backward;
        var filtered = query;
        if (cursor is not null)
        {
            sort.TryDecode(cursor.SortValue!, out var sortValue);
            filtered = query.Where(After(sort.Key, id, sortValue!, cursor.Key, descending));
        }

        var ordered = descending
            ? filtered.OrderByDescending(sort.Key).ThenByDescending(id)
            : filtered.OrderBy(sort.Key).ThenBy(id);
        var rows = await ordered.Take(page.Limit + 1).ToListAsync(cancellationToken);
        var hasMore = rows.Count > page.Limit;
        var items = rows.Take(page.Limit).ToList();
        if (backward)
        {
            items.Reverse();
        }

        PageCursor CursorAt(T item, bool towardsStart) => new(getId(item), towardsStart, sort.Name, sort.Encode(getSort(item)));
        var next = items.Count > 0 && (backward || hasMore) ? CursorAt(items[^1], towardsStart: false) : null;
        var previous = items.Count > 0 && (backward ? hasMore : cursor is not null) ? CursorAt(items[0], towardsStart: true) : null;
        return new Page<T>(items, total, next, previous);
    }

    /// <summary>(sort, id) strictly after (value, key) in the given direction.</summary>
    private static Expression<Func<T, bool>> After<T, TSort>(
        Expression<Func<T, TSort>> sort, Expression<Func<T, string>> id, TSort value, string key, bool descending)
    {
        var parameter = sort.Parameters[0];
        var sortBody = sort.Body;
        var idBody = new ReplaceParameter(id.Parameters[0], parameter).Visit(id.Body);
        Expression<Func<TSort>> capturedValue = () => value;
        Expression<Func<string>> capturedKey = () => key;
        var op = descending ? ExpressionType.LessThan : ExpressionType.GreaterThan;
        var body = Expression.OrElse(
            CompareTo(sortBody, capturedValue.Body, op),
            Expression.AndAlso(Expression.Equal(sortBody, capturedValue.Body), CompareTo(idBody, capturedKey.Body, op)));
        return Expression.Lambda<Func<T, bool>>(body, parameter);
    }

    private static BinaryExpression CompareTo(Expression left, Expression right, ExpressionType op)
    {
        if (left.Type != typeof(string))
        {
            return Expression.MakeBinary(op, left, right);
        }

        var compare = typeof(string).GetMethod(nameof(string.Compare), [typeof(string), typeof(string)])!;
        return Expression.MakeBinary(op, Expression.Call(compare, left, right), Expression.Constant(0));
    }

    private sealed class ReplaceParameter(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }

    /// <summary>Builds <c>string.Compare(key, value) &lt;op&gt; 0</c>, which EF translates to a plain key comparison.</summary>
    private static Expression<Func<T, bool>> Compare<T>(Expression<Func<T, string>> key, string value, ExpressionType comparison)
    {
        var compare = typeof(string).GetMethod(nameof(string.Compare), [typeof(string), typeof(string)])!;
        // A captured closure rather than a constant, so EF sends the value as a parameter.
        Expression<Func<string>> captured = () => value;
        var call = Expression.Call(compare, key.Body, captured.Body);
        var body = Expression.MakeBinary(comparison, call, Expression.Constant(0));
        return Expression.Lambda<Func<T, bool>>(body, key.Parameters);
    }
}

/// <summary>A sort order a list offers: its name in the API, the key, the direction, and how the key is written in a cursor.</summary>
public sealed record SortKey<T, TSort>(
    string Name,
    Expression<Func<T, TSort>> Key,
    bool Descending,
    Func<TSort, string> Encode,
    SortKey<T, TSort>.Decoder TryDecode)
{
    public delegate bool Decoder(string text, out TSort value);
}
