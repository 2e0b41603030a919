using Cadre.Common;

namespace Cadre.Files;

/// <summary>Body of <c>POST …/files/upload-url</c>: what is about to be uploaded.</summary>
/// <param name="Name">The file's name, as people see it and downloads are called (1 to 255 characters, no slashes).</param>
/// <param name="ContentType">Its media type, one of the allowed ones (<c>Cadre:Files:AllowedContentTypes</c>); the upload must send it as Content-Type.</param>
/// <param name="Size">Its size in bytes (at most <c>Cadre:Files:MaxBytes</c>); the upload must be exactly this long.</param>
/// <param name="Sha256">Its SHA-256 in hex, if known: an upload whose bytes do not match is refused and nothing is kept.</param>
public sealed record CreateUploadRequest(string? Name = null, string? ContentType = null, long? Size = null, string? Sha256 = null);

/// <summary>A file of the workspace. Its <c>id</c> is its storage ID: runs name it in <c>attachments</c> (<c>{"storageId": …}</c>) and <c>referenceImageIds</c>.</summary>
/// <param name="Status"><c>pending</c> until its bytes are uploaded, then <c>ready</c>.</param>
/// <param name="Sha256">The bytes' SHA-256 (hex) once ready; while pending, the declared one, if any.</param>
/// <param name="UploadExpiresAt">When its upload URL stops working.</param>
/// <param name="ReferencedAt">When a run first used it; from then on it does not expire.</param>
/// <param name="ExpiresAt">When it is deleted unless a run uses it first; null once one has.</param>
public sealed record FileResponse(
    string Id, string Name, string ContentType, long Size, string? Sha256, string Status, Actor? CreatedBy, DateTime CreatedAt,
    DateTime UploadExpiresAt, DateTime? UploadedAt, DateTime? ReferencedAt, DateTime? ExpiresAt);

/// <summary>A pending file and when its upload URL expires (the server signs the URL).</summary>
public sealed record CreatedUpload(FileResponse File, DateTime ExpiresAt);

/// <summary>The filters of a file list.</summary>
/// <param name="Status"><c>pending</c> or <c>ready</c>.</param>
/// <param name="Run">Only the files this run uses.</param>
public sealed record FileQuery(string? Status, string? Run);

/// <summary>What an upload's PUT came to: the ready file, or why its bytes were refused.</summary>
public sealed record UploadResult(FileResponse? File, UploadProblem? Problem, string? Detail)
{
    public static UploadResult Refused(UploadProblem problem, string detail) => new(null, problem, detail);
}

/// <summary>A ready file's bytes, open for reading (the caller disposes them).</summary>
public sealed record FileContent(FileResponse File, Stream Content);

/// <summary>
/// What a run's start makes of the files it names: its <c>attachments</c> with each <c>{storageId}</c>
/// filled in with the file's <c>name</c>, <c>contentType</c>, <c>size</c> and <c>sha256</c>, its reference
/// images the same way, and every file it uses.
/// </summary>
internal sealed record RunFileRefs(System.Text.Json.Nodes.JsonArray? Attachments, System.Text.Json.Nodes.JsonArray? ReferenceImages, IReadOnlyList<string> FileIds)
{
    public static RunFileRefs None(System.Text.Json.Nodes.JsonArray? attachments) => new(attachments, null, []);
}
