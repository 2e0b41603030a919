using Cadre.Auth;
using Cadre.Files;
using Cadre.Server.Auth;
using Cadre.Server.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Cadre.Server.Files;

/// <summary>What <c>POST …/files/upload-url</c> answers: where and how to send the bytes.</summary>
/// <param name="StorageId">The file's ID, which runs name in <c>attachments</c> and <c>referenceImageIds</c>.</param>
/// <param name="UploadUrl">Signed, single-use, short-lived: PUT the bytes here, with no other credential.</param>
/// <param name="Method">Always <c>PUT</c>.</param>
/// <param name="Headers">Headers the PUT must send (its <c>Content-Type</c>).</param>
/// <param name="ExpiresAt">When the URL stops working.</param>
/// <param name="File">The file, <c>pending</c> until the bytes arrive.</param>
public sealed record UploadUrlResponse(string StorageId, string UploadUrl, string Method, IReadOnlyDictionary<string, string> Headers, DateTime ExpiresAt, FileResponse File);

/// <summary>The filters of a file list.</summary>
/// <param name="Status"><c>pending</c> or <c>ready</c>.</param>
/// <param name="Run">Only the files this run uses (its attachments and reference images).</param>
public sealed record FileListQuery([FromQuery(Name = "status")] string? Status, [FromQuery(Name = "run")] string? Run)
{
    internal FileQuery ToQuery() => new(Status, Run);
}

/// <summary>
/// Uploaded files (see docs/files.md): an upload URL, the upload itself at that URL (outside
/// <c>/api/v1</c>: the signed URL is its credential, like <c>/hooks/{token}</c>), reading, listing, deleting.
/// </summary>
internal static class FileEndpoints
{
    private const string Binary = "application/octet-stream";

    public static IEndpointRouteBuilder MapFiles(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/workspaces/{workspace}/files").WithTags("Files");
        group.MapPost("/upload-url", CreateUploadUrl)
            .WithName("CreateFileUploadUrl").WithSummary("Make a pending file and a signed URL to PUT its bytes to")
            .WithDescription("The body declares the file: name, contentType (one of the allowed types), size (at most the limit) and optionally sha256. " +
                "The answer's uploadUrl takes one PUT of exactly those bytes with that Content-Type, until expiresAt (default 15 minutes), with no other credential. " +
                "A file no run uses is deleted a while after its upload (default 24 hours).")
            .RequireWorkspaceRole(WorkspaceRole.Operator).WithIdempotency().WithJsonBodyErrors();
        group.MapGet("/", List)
            .WithName("ListFiles").WithSummary("The workspace's files, newest first")
            .RequireWorkspaceRole(WorkspaceRole.Viewer).WithQueryErrors();
        group.MapGet("/{file}", Get)
            .WithName("GetFile").WithSummary("A file's name, type, size, SHA-256, status and expiry")
            .RequireWorkspaceRole(WorkspaceRole.Viewer);
        group.MapGet("/{file}/content", Content)
            .WithName("GetFileContent").WithSummary("A ready file's bytes, as a download")
            .WithDescription("Content-Type is the file's; Content-Disposition: attachment, with the file's name; X-Content-Type-Options: nosniff. 409 while the file is pending.")
            .Produces<Stream>(StatusCodes.Status200OK, Binary)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                if (operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content?.TryGetValue(Binary, out var media) == true)
                {
                    media.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "The file's bytes, with the file's own Content-Type." };
                }

                return Task.CompletedTask;
            })
            .RequireWorkspaceRole(WorkspaceRole.Viewer).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapDelete("/{file}", Delete)
            .WithName("DeleteFile").WithSummary("Delete a file: its bytes and its record")
            .WithDescription("409 while a run that uses the file is still in progress (not succeeded, failed or compensated).")
            .RequireWorkspaceRole(WorkspaceRole.Operator).ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    public static IEndpointRouteBuilder MapUploads(this IEndpointRouteBuilder app)
    {
        var files = app.ServiceProvider.GetRequiredService<IOptions<FilesOptions>>().Value;
        var types = files.ContentTypes().Order(StringComparer.Ordinal).ToArray();
        app.MapPut(UploadUrls.PathPrefix + "{file}", Upload)
            .WithTags("Files").WithName("UploadFile")
            .WithSummary("Upload a file's bytes to the signed URL POST …/files/upload-url answered")
            .WithDescription("The URL (with its sig) is the credential. Content-Type must be the declared one (415); the body must be exactly the declared size: " +
                "a Content-Length above it is refused before any byte is read, and a body that runs past it is cut off (413); a shorter one is refused (422), " +
                "as is one whose SHA-256 is not the declared one (422). A refused upload keeps nothing, and the URL may be used again until it expires. " +
                "Answers the ready file; the URL is then spent (403). A missing signature is 401; a changed, foreign or expired one 403.")
            .Accepts(typeof(Stream), types[0], types[1..])
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                foreach (var media in operation.RequestBody?.Content?.Values ?? [])
                {
                    media.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "The file's bytes." };
                }

                return Task.CompletedTask;
            })
            .WithMetadata(new RequestSizeLimitAttribute(files.MaxBytes))
            // The signed URL is the credential: a browser's session cookie adds nothing a forged request could use.
            .DisableAntiforgery()
            .Produces<FileResponse>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .AllowAnyone();
        return app;
    }

    private static async Task<Results<Created<UploadUrlResponse>, ProblemHttpResult>> CreateUploadUrl(
        CreateUploadRequest request, WorkspaceAccess access, FileService files, UploadUrls urls, HttpRequest http, CancellationToken cancellationToken)
    {
        var result = await files.CreateUploadAsync(access.Workspace.Id, request, access.Caller, cancellationToken);
        if (result.Value is not { } created)
        {
            return Problems.From(result.Error!);
        }

        var file = created.File;
        var answer = new UploadUrlResponse(
            file.Id, urls.For(PublicUrl.For(http), file.Id, created.ExpiresAt), "PUT",
            new Dictionary<string, string>(StringComparer.Ordinal) { ["Content-Type"] = file.ContentType }, created.ExpiresAt, file);
        return TypedResults.Created($"/api/v1/workspaces/{access.Workspace.Name}/files/{file.Id}", answer);
    }

    private static Task<Results<Ok<PagedResponse<FileResponse>>, ProblemHttpResult>> List(
        [AsParameters] PageQuery page, [AsParameters] FileListQuery query, WorkspaceAccess access, FileService files, HttpRequest request, CancellationToken cancellationToken) =>
        Paging.PageAsync(page, request, p => files.ListAsync(access.Workspace.Id, query.ToQuery(), p, cancellationToken));

    private static async Task<Results<Ok<FileResponse>, ProblemHttpResult>> Get(string file, WorkspaceAccess access, FileService files, CancellationToken cancellationToken) =>
        await files.GetAsync(access.Workspace.Id, file, cancellationToken) is { } found ? TypedResults.Ok(found) : Problems.NotFound($"File '{file}' not found.");

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> Content(
        string file, WorkspaceAccess access, FileService files, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = await files.OpenAsync(access.Workspace.Id, file, cancellationToken);
        if (result.Value is not { } content)
        {
            return Problems.From(result.Error!);
        }

        // Never rendered as anything but a download of its declared type, whatever the bytes look like.
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        response.Headers.CacheControl = "private, no-cache";
        return TypedResults.Stream(content.Content, content.File.ContentType, DownloadName(content.File.Name));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string file, WorkspaceAccess access, FileService files, CancellationToken cancellationToken)
    {
        var result = await files.DeleteAsync(access.Workspace.Id, file, cancellationToken);
        return result.IsSuccess ? TypedResults.NoContent() : Problems.From(result.Error!);
    }

    private static async Task<Results<Ok<FileResponse>, ProblemHttpResult>> Upload(
        string file, [FromQuery(Name = "sig")] string? sig, HttpRequest request, UploadUrls urls, FileService files, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(sig))
        {
            return Problems.Problem(StatusCodes.Status401Unauthorized, "Signature required",
                "Upload to the URL POST …/files/upload-url answered, with its sig parameter: that signature is the upload's credential.");
        }

        if (urls.Refusal(file, sig) is { } refusal)
        {
            return Problems.Problem(StatusCodes.Status403Forbidden, "Upload URL refused", refusal);
        }

        var result = await files.UploadAsync(file, request.ContentType, request.ContentLength, request.Body, cancellationToken);
        return result switch
        {
            { File: { } ready } => TypedResults.Ok(ready),
            { Problem: UploadProblem.Gone } => Problems.NotFound(result.Detail!),
            { Problem: UploadProblem.AlreadyUsed } => Problems.Problem(StatusCodes.Status403Forbidden, "Upload URL already used", result.Detail!),
            { Problem: UploadProblem.InProgress } => Problems.Conflict(result.Detail!),
            { Problem: UploadProblem.WrongContentType } => Problems.Problem(StatusCodes.Status415UnsupportedMediaType, "Wrong content type", result.Detail!),
            { Problem: UploadProblem.TooLarge } => Problems.Problem(StatusCodes.Status413PayloadTooLarge, "Too large", result.Detail!),
            { Problem: UploadProblem.TooShort } => Problems.Validation(new Dictionary<string, string[]> { ["body"] = [result.Detail!] }, result.Detail!),
            _ => Problems.Validation(new Dictionary<string, string[]> { ["sha256"] = [result.Detail!] }, result.Detail!),
        };
    }

    /// <summary>The name a download is saved under: the file's, with anything a header or a file system would misread replaced.</summary>
    private static string DownloadName(string name)
    {
        var safe = new string([.. name.Select(c => char.IsControl(c) || c is '"' or '\\' or '/' or ';' or ':' or '*' or '?' or '<' or '>' or '|' ? '_' : c)]).Trim().TrimStart('.');
        return safe.Length == 0 ? "download" : safe;
    }
}
