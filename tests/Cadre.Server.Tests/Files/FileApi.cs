using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Cadre.Server.Tests.Files;

/// <summary>Helpers for the file tests: asking for an upload URL, sending bytes to it.</summary>
internal static class FileApi
{
    /// <summary>A 1×1 PNG.</summary>
    public static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    public static string Files(this TestWorkspace workspace, string rest = "") => $"/api/v1/workspaces/{workspace.Name}/files{rest}";

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static Task<HttpResponseMessage> RequestUploadAsync(this TestWorkspace workspace, object body, HttpClient? client = null) =>
        (client ?? workspace.Owner).PostJsonAsync(workspace.Files("/upload-url"), body);

    /// <summary>Asks for an upload URL; answers the response body (storageId, uploadUrl, …).</summary>
    public static async Task<JsonObject> UploadUrlAsync(this TestWorkspace workspace, string name, string contentType, long size, string? sha256 = null)
    {
        var response = await workspace.RequestUploadAsync(new { name, contentType, size, sha256 });
        await response.ShouldBeAsync(HttpStatusCode.Created);
        return await response.ReadObjectAsync();
    }

    /// <summary>PUTs <paramref name="bytes"/> to an upload URL as an anonymous client; <paramref name="chunked"/> sends no Content-Length.</summary>
    public static async Task<HttpResponseMessage> PutBytesAsync(this CadreApp app, string uploadUrl, byte[] bytes, string? contentType, bool chunked = false)
    {
        using var client = app.Client();
        HttpContent content = chunked ? new StreamContent(new UnknownLengthStream(bytes)) : new ByteArrayContent(bytes);
        if (contentType is not null)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        using var request = new HttpRequestMessage(HttpMethod.Put, uploadUrl) { Content = content };
        request.Headers.TransferEncodingChunked = chunked;
        return await client.SendAsync(request);
    }

    /// <summary>Uploads a file whole; answers its storage ID.</summary>
    public static async Task<string> UploadAsync(this TestWorkspace workspace, CadreApp app, string name, string contentType, byte[] bytes)
    {
        var upload = await workspace.UploadUrlAsync(name, contentType, bytes.Length);
        await (await app.PutBytesAsync((string)upload["uploadUrl"]!, bytes, contentType)).ShouldBeAsync(HttpStatusCode.OK);
        return (string)upload["storageId"]!;
    }

    /// <summary>Where the local store keeps a file's bytes.</summary>
    public static string PathOf(CadreApp app, TestWorkspace workspace, string fileId) => Path.Combine(app.DataDir, "files", workspace.Id, fileId);

    /// <summary>A stream that will not say how long it is, so HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
