using System.Globalization;
using System.Text;
using System.Text.Json;
using Cadre.Audit;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace Cadre.Server.Audit;

/// <summary>
/// Streams an audit export as it is read (a batch at a time), so a year of entries never sits in
/// memory: NDJSON (one entry as the list shows it per line) or CSV (one flat row per entry).
/// </summary>
internal sealed class AuditExportResult(IAsyncEnumerable<AuditEntryResponse> entries, string format, string fileName) : IResult, IStatusCodeHttpResult
{
    public const string Ndjson = "ndjson";
    public const string Csv = "csv";

    public static readonly string[] Formats = [Ndjson, Csv];

    /// <summary>The CSV header; <c>details</c> holds the JSON object.</summary>
    public static readonly string[] CsvColumns =
    [
        "id", "at", "workspaceId", "workspaceName", "actorKind", "actorId", "actorName", "actorEmail", "via", "keyId", "keyPrefix",
        "action", "resourceType", "resourceId", "resourceName", "method", "path", "status", "clientIp", "userAgent", "traceId", "details",
    ];

    /// <summary>Flush to the client every this many entries.</summary>
    private const int FlushEvery = 200;

    public int? StatusCode => StatusCodes.Status200OK;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        var csv = format == Csv;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = csv ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8";
        response.Headers.ContentDisposition = $"attachment; filename=\"{fileName}.{format}\"";
        response.Headers.CacheControl = "no-store";
        var json = httpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var buffer = new StringBuilder();
        if (csv)
        {
            AppendRow(buffer, CsvColumns);
        }

        var count = 0;
        await foreach (var entry in entries.WithCancellation(httpContext.RequestAborted))
        {
            if (csv)
            {
                AppendRow(buffer, Row(entry));
            }
            else
            {
                buffer.Append(JsonSerializer.Serialize(entry, json)).Append('\n');
            }

            if (++count % FlushEvery == 0)
            {
                await response.WriteAsync(buffer.ToString(), httpContext.RequestAborted);
                buffer.Clear();
            }
        }

        await response.WriteAsync(buffer.ToString(), httpContext.RequestAborted);
    }

    private static string?[] Row(AuditEntryResponse e) =>
    [
        e.Id, e.At.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture), e.WorkspaceId, e.WorkspaceName,
        e.Actor.Kind, e.Actor.Id, e.Actor.Name, e.Actor.Email, e.Actor.Via, e.Actor.KeyId, e.Actor.KeyPrefix,
        e.Action, e.Resource?.Type, e.Resource?.Id, e.Resource?.Name,
        e.Request.Method, e.Request.Path, e.Request.Status.ToString(CultureInfo.InvariantCulture), e.Request.ClientIp, e.Request.UserAgent, e.Request.TraceId,
        e.Details?.ToJsonString(),
    ];

    /// <summary>
    /// One RFC 4180 record (CRLF, quoted where needed). A cell a spreadsheet would run as a formula
    /// (starting with =, +, -, @, tab or CR) gets a leading apostrophe: names and user agents are
    /// whatever a caller chose, and an audit export is opened by the people it is meant to protect.
    /// </summary>
    private static void AppendRow(StringBuilder buffer, string?[] cells)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                buffer.Append(',');
            }

            var cell = cells[i] ?? "";
            if (cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            {
                cell = "'" + cell;
            }

            if (cell.AsSpan().IndexOfAny("\",\r\n") >= 0)
            {
                buffer.Append('"').Append(cell.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                buffer.Append(cell);
            }
        }

        buffer.Append("\r\n");
    }
}
