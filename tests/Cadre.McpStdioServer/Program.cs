using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

// Tools that show what the process was given: arithmetic, the operator's variable, and whether
// anything of the parent's environment leaked in.
var options = new McpServerOptions
{
    ServerInfo = new Implementation { Name = "cadre-test-stdio", Version = "1.0.0" },
    ToolCollection =
    [
        McpServerTool.Create((int a, int b) => a * b, new McpServerToolCreateOptions { Name = "multiply", Description = "Multiplies two integers." }),
        McpServerTool.Create(
            (string name) => Environment.GetEnvironmentVariable(name) ?? "(unset)",
            new McpServerToolCreateOptions { Name = "read_variable", Description = "An environment variable of the server's process." }),
    ],
};
await using var server = McpServer.Create(new StdioServerTransport("cadre-test-stdio"), options);
await server.RunAsync();
