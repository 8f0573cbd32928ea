public import GRPCCore

/// A domain error that knows its ``ServiceError``; it then travels over gRPC as that error.
public protocol ServiceErrorConvertible: RPCErrorConvertible {
    var serviceError: ServiceError { get }
}

extension ServiceErrorConvertible {
    public var rpcErrorCode: RPCError.Code { serviceError.rpcErrorCode }
    public var rpcErrorMessage: String { serviceError.rpcErrorMessage }
    public var rpcErrorMetadata: Metadata { serviceError.rpcErrorMetadata }
}
