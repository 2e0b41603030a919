using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Cadre.Server.Tests.Infrastructure;

/// <summary>A real HTTP server on 127.0.0.1 for outbound calls under test, answering with a handler and recording requests.</summary>
public sealed class FakeHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _inFlight;

    private FakeHttpServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>Requests whose handler has not finished: a test that breaks things mid-call waits for one.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public List<(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body)> Requests { get; } = [];

    /// <summary>Every <c>Idempotency-Key</c> the server was called under (<c>(none)</c> for a call without one).</summary>
    public HashSet<string> IdempotencyKeys()
    {
        lock (Requests)
        {
            return Requests.Select(r => r.Headers.GetValueOrDefault("Idempotency-Key", "(none)")).ToHashSet(StringComparer.Ordinal);
        }
    }

    public static async Task<FakeHttpServer> StartAsync(Func<HttpContext, Task> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeHttpServer? server = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            lock (server!.Requests)
            {
                // Copied: Kestrel reuses the header collection once the request ends.
                var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
                server.Requests.Add((context.Request.Method, context.Request.Path + context.Request.QueryString, headers, body));
            }

            Interlocked.Increment(ref server._inFlight);
            try
            {
                await handler(context);
            }
            finally
            {
                Interlocked.Decrement(ref server._inFlight);
            }
        });
        await app.StartAsync();
        server = new FakeHttpServer(app, new Uri(app.Urls.First()));
        return server;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
