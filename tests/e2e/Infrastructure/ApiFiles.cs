using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Cadre.E2E.Infrastructure;

/// <summary>Files arranged through the API the two-step way of docs/files.md: declare, then PUT the bytes to the signed URL.</summary>
internal static class ApiFiles
{
    /// <summary>Declares a file and answers the upload-url answer (the file is pending until its bytes are sent).</summary>
    public static async Task<JsonObject> DeclareAsync(HttpClient client, string workspace, string name, string contentType, byte[] bytes)
    {
        using var response = await client.PostAsJsonAsync($"/api/v1/workspaces/{workspace}/files/upload-url", new
        {
            name, contentType, size = bytes.Length, sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
        });
        var text = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode
            ? JsonNode.Parse(text)!.AsObject()
            : throw new InvalidOperationException($"Declaring {name}: {(int)response.StatusCode} {text}");
    }

    /// <summary>Uploads a file and answers its ID (its storage ID), ready.</summary>
    public static async Task<string> UploadAsync(HttpClient client, string workspace, string name, string contentType, byte[] bytes)
    {
        var declared = await DeclareAsync(client, workspace, name, contentType, bytes);
        // The signed URL is the credential: no API key goes with it.
        using var anonymous = new HttpClient();
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await anonymous.PutAsync((string)declared["uploadUrl"]!, content);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Uploading {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        return (string)declared["storageId"]!;
    }
}
