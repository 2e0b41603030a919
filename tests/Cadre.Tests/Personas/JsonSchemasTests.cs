using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Cadre.Common;

namespace Cadre.Tests.Personas;

public sealed class JsonSchemasTests
{
    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}""")]
    [InlineData("""{"type": ["string", "null"]}""")]
    [InlineData("""{"$defs": {"item": {"type": "integer"}}, "type": "array", "items": {"$ref": "#/$defs/item"}}""")]
    [InlineData("""{"type": "object", "properties": {"type": {"type": "string"}, "items": {"enum": ["a"]}}}""")]
    public void Check_AcceptsSchemas(string schema) => JsonSchemas.Check(JsonNode.Parse(schema)!.AsObject()).ShouldBeNull();

    [Theory]
    [InlineData("""{"type": "objekt"}""", "type")]
    [InlineData("""{"type": 5}""", "type")]
    [InlineData("""{"properties": {"a": {"type": "strin"}}}""", "type")]
    [InlineData("""{"anyOf": [{"type": "string"}, {"type": "text"}]}""", "type")]
    [InlineData("""{"items": {"properties": {"x": {"type": "float"}}}}""", "type")]
    [InlineData("""{"properties": []}""", "JSON Schema")]
    [InlineData("""{"items": {"$ref": "#/$defs/missing"}}""", "JSON Schema")]
    public void Check_RefusesBrokenSchemas(string schema, string mentioned) =>
        JsonSchemas.Check(JsonNode.Parse(schema)!.AsObject()).ShouldNotBeNull().ShouldContain(mentioned);

    [Fact]
    public void Check_RefusesExternalReferences_WithoutFetchingThem()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var byUrl = JsonSchemas.Check(JsonNode.Parse($$"""{"$ref": "http://127.0.0.1:{{port}}/schema.json"}""")!.AsObject());
        var byFile = JsonSchemas.Check(JsonNode.Parse("""{"properties": {"a": {"$ref": "file:///etc/passwd"}}}""")!.AsObject());

        byUrl.ShouldNotBeNull().ShouldContain("$ref");
        byFile.ShouldNotBeNull().ShouldContain("etc/passwd");
        listener.Pending().ShouldBeFalse("the schema check must not connect anywhere");
    }

    [Fact]
    public void Check_RefusesOversizedSchemas()
    {
        var schema = new JsonObject { ["description"] = new string('d', JsonSchemas.MaxBytes) };

        JsonSchemas.Check(schema).ShouldNotBeNull().ShouldContain("KiB");
    }
}
