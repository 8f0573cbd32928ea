package import GRPCCore

/// A domain error that knows its ``ServiceError``; it then travels over gRPC as that error.
package protocol ServiceErrorConvertible: RPCErrorConvertible {
    var serviceError: ServiceError { get }
}

extension ServiceErrorConvertible {
    package var rpcErrorCode: RPCError.Code { serviceError.rpcErrorCode }
    package var rpcErrorMessage: String { serviceError.rpcErrorMessage }
    package var rpcErrorMetadata: Metadata { serviceError.rpcErrorMetadata }
}
