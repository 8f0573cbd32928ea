import AsyncHTTPClient
import CoreAPI
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import Hummingbird
import NIOCore
import NIOHTTP1
import ServerKit
import SwiftProtobuf

// One internal call — core's `BeneficiaryService/GetBeneficiary` — answered from the same records
// in two ways: gRPC (protobuf over HTTP/2) and JSON over HTTP/1.1 (the same message in protobuf's
// canonical JSON mapping, as a REST or transcoding front would carry it). The handler's work is
// one dictionary lookup either way, so the difference between the two is the transport and the
// encoding, which is what the choice of gRPC between services decides.

/// The path the JSON form is posted to: the gRPC method's own path, so both forms name the call alike.
let getBeneficiaryPath = "/rahat.core.v1.BeneficiaryService/GetBeneficiary"

/// The records both forms answer from: `count` beneficiaries with every field a PII read returns.
struct BeneficiaryDirectory: Sendable {
    let records: [String: Rahat_Core_V1_Beneficiary]

    init(count: Int) {
        var records: [String: Rahat_Core_V1_Beneficiary] = [:]
        records.reserveCapacity(count)
        for index in 0..<count {
            let record = Self.record(index)
            records[record.id] = record
        }
        self.records = records
    }

    /// The id of the `index`th record; callers draw ids this way so both sides agree without a list.
    static func id(_ index: Int) -> String {
        let digits = String(index)
        return "7f3c1e2a-5b4d-4c6e-9a8b-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    private static func record(_ index: Int) -> Rahat_Core_V1_Beneficiary {
        var pii = Rahat_Core_V1_BeneficiaryPII()
        pii.name = "Sita Kumari Shrestha \(index)"
        pii.phone = "+9779800\(100_000 + index % 900_000)"
        pii.email = "beneficiary\(index)@example.org"
        pii.nationalID = "NP-\(10_000_000 + index)"
        var record = Rahat_Core_V1_Beneficiary()
        record.id = id(index)
        record.pii = pii
        record.gender = index.isMultiple(of: 2) ? "female" : "male"
        record.birthDate = "1986-04-\(10 + index % 18)"
        record.location = "Ward 4, Birendranagar, Surkhet"
        record.latitude = 28.6019 + Double(index % 100) / 10_000
        record.longitude = 81.6339 + Double(index % 100) / 10_000
        record.bankedStatus = "unbanked"
        record.internetStatus = "mobile_internet"
        record.phoneStatus = "smartphone"
        record.verificationStatus = "verified"
        record.extrasJson = #"{"household_size":5,"ward":"4"}"#
        let created = Google_Protobuf_Timestamp(seconds: 1_790_000_000 + Int64(index), nanos: 123_000_000)
        record.createdAt = created
        record.updatedAt = created
        return record
    }
}

/// Serves `GetBeneficiary` as gRPC on `port`: a bare server (no interceptors, no TLS), like grpc-serve.
struct BeneficiaryLookupService: RegistrableRPCService {
    let directory: BeneficiaryDirectory

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let directory = directory
        router.registerHandler(
            forMethod: Rahat_Core_V1_BeneficiaryService.Method.GetBeneficiary.descriptor,
            deserializer: ProtobufDeserializer<Rahat_Core_V1_GetBeneficiaryRequest>(),
            serializer: ProtobufSerializer<Rahat_Core_V1_Beneficiary>()
        ) { streamed, _ in
            let request = try await ServerRequest(stream: streamed)
            guard let record = directory.records[request.message.id] else {
                throw RPCError(code: .notFound, message: "no beneficiary \(request.message.id)")
            }
            return StreamingServerResponse(single: ServerResponse(message: record))
        }
    }
}

/// Serves the call both ways at once, from one directory: gRPC on `--port`, JSON on `--http-port`.
func serveInternalCall(_ options: BenchOptions, httpPort: Int) async throws {
    let directory = BeneficiaryDirectory(count: options.records)
    let grpc = GRPCServer(
        transport: HTTP2ServerTransport.Posix(
            address: .ipv4(host: options.host, port: options.port), transportSecurity: .plaintext),
        services: [BeneficiaryLookupService(directory: directory)])

    let router = Router()
    router.post(RouterPath(getBeneficiaryPath)) { request, _ -> Response in
        let body = try await request.body.collect(upTo: 64 * 1024)
        let lookup: Rahat_Core_V1_GetBeneficiaryRequest
        do {
            lookup = try Rahat_Core_V1_GetBeneficiaryRequest(jsonUTF8Bytes: Array(buffer: body))
        } catch {
            return Response(status: .badRequest)
        }
        guard let record = directory.records[lookup.id] else { return Response(status: .notFound) }
        let bytes: [UInt8] = try record.jsonUTF8Bytes()
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
    let http = Application(router: router, configuration: .init(address: .hostname(options.host, port: httpPort)))

    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await grpc.serve() }
        group.addTask { try await http.runService() }
        try await group.next()
        group.cancelAll()
    }
}

/// Times `GetBeneficiary` for random ids over gRPC, the way a service calls another.
func callInternalGRPC(_ options: BenchOptions) async throws {
    let client = GRPCClient(
        transport: try .http2NIOPosix(
            target: .ipv4(address: options.host, port: options.port),
            transportSecurity: .plaintext,
            serviceConfig: RPCDefaults.serviceConfig
        ))
    try await withThrowingDiscardingTaskGroup { group in
        group.addTask { try await client.runConnections() }
        defer { client.beginGracefulShutdown() }
        let beneficiaries = Rahat_Core_V1_BeneficiaryService.Client(wrapping: client)
        let records = options.records
        try await measure(options) {
            var request = Rahat_Core_V1_GetBeneficiaryRequest()
            request.id = BeneficiaryDirectory.id(Int.random(in: 0..<records))
            let record = try await beneficiaries.getBeneficiary(request)
            guard record.id == request.id else { throw BenchError("asked for \(request.id), got \(record.id)") }
        }
    }
}

/// Times the same call as JSON posted over HTTP/1.1 with AsyncHTTPClient, on kept-alive connections
/// (one per concurrent caller), decoding the answer into the same message.
func callInternalJSON(_ options: BenchOptions) async throws {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool = .init(
        idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: options.concurrency)
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    let url = "http://\(options.host):\(options.port)\(getBeneficiaryPath)"
    let records = options.records
    do {
        try await measure(options) {
            var lookup = Rahat_Core_V1_GetBeneficiaryRequest()
            lookup.id = BeneficiaryDirectory.id(Int.random(in: 0..<records))
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            let body: [UInt8] = try lookup.jsonUTF8Bytes()
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(request, timeout: .seconds(30))
            let answer = try await response.body.collect(upTo: 1024 * 1024)
            guard response.status == .ok else { throw BenchError("HTTP \(response.status.code) for \(lookup.id)") }
            let record = try Rahat_Core_V1_Beneficiary(jsonUTF8Bytes: Array(buffer: answer))
            guard record.id == lookup.id else { throw BenchError("asked for \(lookup.id), got \(record.id)") }
        }
    } catch {
        try await client.shutdown()
        throw error
    }
    try await client.shutdown()
}
