using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace Cadre.Server.WebUi;

/// <summary>
/// Serves the web UI built from <c>web/</c> into <c>wwwroot</c> (docs/web.md): its files, and
/// <c>index.html</c> for any other page address so the browser's router can show it. Both run only
/// for requests no endpoint took, and never for the server's own paths (the API, webhooks, uploads,
/// probes, metrics, the OpenAPI document), which keep answering problems such as 404 themselves.
/// </summary>
internal static class WebUi
{
    /// <summary>Paths the UI never answers, even where no endpoint matches.</summary>
    internal static readonly PathString[] ServerPaths =
        ["/api", "/hooks", "/uploads", "/healthz", "/readyz", "/metrics", "/openapi"];

    private const string IndexFile = "index.html";

    /// <summary>After routing: static files, then the page fallback; a no-op when the UI was not built.</summary>
    public static WebApplication UseCadreWebUi(this WebApplication app)
    {
        var files = app.Environment.WebRootFileProvider;
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = context =>
            {
                // Vite names everything under assets/ by its content hash: cache it for good. The rest (index.html,
                // an icon) must be asked for again, so a new release is picked up at the next load.
                context.Context.Response.Headers.CacheControl = context.Context.Request.Path.StartsWithSegments("/assets")
                    ? "public, max-age=31536000, immutable"
                    : "no-cache";
            },
        });
        app.Use((context, next) => IsPageRequest(context) && files.GetFileInfo(IndexFile) is { Exists: true } index
            ? SendIndexAsync(context, index)
            : next(context));
        return app;
    }

    // An empty segment (//api/v1//…) is no page of the UI: answered 404 rather than a 200 page shell
    // that scanners and caches would take for the API path it resembles.
    private static bool IsPageRequest(HttpContext context) =>
        context.GetEndpoint() is null
        && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
        && !context.Request.Path.Value!.Contains("//", StringComparison.Ordinal)
        && !ServerPaths.Any(path => context.Request.Path.StartsWithSegments(path, StringComparison.OrdinalIgnoreCase));

    private static async Task SendIndexAsync(HttpContext context, IFileInfo index)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
        context.Response.ContentLength = index.Length;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        await using var stream = index.CreateReadStream();
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
