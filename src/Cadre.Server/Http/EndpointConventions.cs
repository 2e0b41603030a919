namespace Cadre.Server.Http;

internal static class EndpointConventions
{
    /// <summary>Documents the answers every endpoint that reads a JSON body can give to a bad one.</summary>
    public static RouteHandlerBuilder WithJsonBodyErrors(this RouteHandlerBuilder builder) =>
        builder.ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity);

    /// <summary>Documents the 400 a list answers to a bad <c>limit</c>, <c>cursor</c> or filter.</summary>
    public static RouteHandlerBuilder WithQueryErrors(this RouteHandlerBuilder builder) =>
        builder.ProducesValidationProblem(StatusCodes.Status400BadRequest);
}
