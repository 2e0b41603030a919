using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Cadre.Cli.Api;

/// <summary>
/// Cadre's HTTP API as the CLI and the MCP server use it: the key on every request, JSON in and out,
/// problems turned into <see cref="CadreApiException"/> and an unreachable server into one clear message.
/// It is a client like any other: what a key may not do over HTTP, it may not do here.
/// </summary>
internal sealed class CadreApiClient : IDisposable
{
    /// <summary>How the CLI writes JSON for people and files: indented, and with quotes and non-ASCII text as they are (never HTML).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly HttpClient _http;

    public CadreApiClient(Uri server, string? key, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        Server = server;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = server,
            // Long waits (run --wait, streams) set their own limits; this one only bounds a server that hangs.
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("cadre-cli", typeof(CadreApiClient).Assembly.GetName().Version?.ToString(3)));
        if (!string.IsNullOrEmpty(key))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
    }

    public Uri Server { get; }

    /// <summary>Requests that do not stream give up after this long.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(100);

    public Task<JsonNode?> GetAsync(string path, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, path, null, cancellationToken);

    /// <summary>Sends a request with an optional JSON body; answers the JSON response, or null for an empty one.</summary>
    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? headers = null, TimeSpan? timeout = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        var text = await SendForTextAsync(request, headers, timeout, cancellationToken);
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>Sends a request and answers the body as text (an export in YAML, a Markdown card).</summary>
    public async Task<string> SendForTextAsync(HttpRequestMessage request, IReadOnlyDictionary<string, string>? headers,
        TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? RequestTimeout);
        try
        {
            using var response = await _http.SendAsync(request, limit.Token);
            var text = await response.Content.ReadAsStringAsync(limit.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw CadreApiException.From(response.StatusCode, response.ReasonPhrase, text);
            }

            return text;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"{Server} did not answer within {(timeout ?? RequestTimeout).TotalSeconds:0} s.", ExitCodes.Unavailable);
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null)
        {
            throw Unreachable(ex);
        }
    }

    /// <summary>Opens a response to read as it arrives (a server-sent event stream); the caller disposes it.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, string? lastEventId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null)
        {
            throw Unreachable(ex);
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw CadreApiException.From(response.StatusCode, response.ReasonPhrase, await response.Content.ReadAsStringAsync(cancellationToken));
            }
        }

        return response;
    }

    /// <summary>
    /// Every item of a list, following its <c>next</c> links, up to <paramref name="max"/> items
    /// (null: all of them). Answers the items and the list's total <c>count</c>.
    /// </summary>
    public async Task<(List<JsonNode> Items, int Count)> ListAsync(string path, int? max, CancellationToken cancellationToken)
    {
        var items = new List<JsonNode>();
        var count = 0;
        var pageSize = Math.Clamp(max ?? 100, 1, 100);
        string? next = WithQuery(path, "limit", pageSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        while (next is not null && (max is null || items.Count < max))
        {
            var page = await GetAsync(next, cancellationToken) as JsonObject
                ?? throw new CliException($"{path} did not answer a list.");
            count = page["count"]?.GetValue<int>() ?? 0;
            items.AddRange((page["results"] as JsonArray ?? []).Where(item => item is not null).Select(item => item!.DeepClone()));
            next = page["next"]?.GetValue<string>();
        }

        return (max is null ? items : [.. items.Take(max.Value)], count);
    }

    /// <summary>Adds <paramref name="name"/>=<paramref name="value"/> to a path's query string.</summary>
    public static string WithQuery(string path, string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (value is null)
        {
            return path;
        }

        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        return $"{path}{separator}{Uri.EscapeDataString(name)}={Uri.EscapeDataString(value)}";
    }

    /// <summary>One path segment, escaped: names and IDs go into paths only through this.</summary>
    public static string Segment(string value) => Uri.EscapeDataString(value);

    public void Dispose() => _http.Dispose();

    private CliException Unreachable(HttpRequestException ex) =>
        new($"Could not reach {Server}: {ex.Message}", ExitCodes.Unavailable);
}
