import Fluent
import Foundation
import OmbudDomain
import Vapor

/// `/portal/s/{secret}`: the status of one appeal for whoever holds its link — status, dates, topic, the answer
/// once given — and the rating of that answer. Nothing about the applicant is shown; an unknown link is a 404 like
/// any missing page, with nothing to tell a guesser how close it came.
struct PortalStatusPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("s", ":secret", use: status)
        routes.post("s", ":secret", "rating", use: rate)
    }

    static func appeal(_ req: Request) async throws -> Appeal {
        let secret = req.parameters.get("secret") ?? ""
        guard secret.count >= 40, secret.count <= 64 else { throw AppError.notFound(entity: "page", id: "") }
        let hash = Tokens.hash(secret)
        // The link shown when the appeal was made, or one a mail carried or the tracking page gave (`PortalTrackPages`:
        // an appeal registered by staff has no publication row).
        var id = try await PublicAppeal.query(on: req.db).filter(\.$statusTokenHash == hash).first()?.id
        if id == nil { id = try await PortalLink.find(hash, on: req.db)?.appealID }
        guard let id, let appeal = try await Appeal.find(id, on: req.db) else { throw AppError.notFound(entity: "page", id: "") }
        return appeal
    }

    func status(req: Request) async throws -> Response {
        let appeal = try await Self.appeal(req)
        return try await Self.page(req, appeal, secret: req.parameters.get("secret") ?? "", ratingErrors: [:])
    }

    static func page(_ req: Request, _ appeal: Appeal, secret: String, ratingErrors: [String: String], status: HTTPResponseStatus = .ok,
                     rated: Bool = false, tracked: Bool = false) async throws -> Response {
        let f = req.format
        let zone = req.settings.timeZone
        let state = AppealTransitions.workflow.state(appeal.status)
        let questions = try await Question.query(on: req.db).filter(\.$appeal.$id == appeal.requireID()).sort(\.$position).all()
        let topics = Dictionary(uniqueKeysWithValues: try await TopicRecord.query(on: req.db).filter(\.$id ~~ Set(questions.map(\.topicCode))).all()
            .map { (try $0.requireID(), $0.name) })
        // Only an answer that was given: a draft stays inside, even when the appeal ends otherwise (withdrawn, returned).
        let answerGiven = state?.answered == true
        let answers: [[String: Any]] = answerGiven ? questions.compactMap { q in
            guard let text = q.answerText?.nonBlank else { return nil }
            return ["topic": topics[q.topicCode] ?? q.topicCode, "text": text,
                    "result": q.result.map { req.catalogued("results", $0) } ?? ""]
        } : []
        let ratings = try await AppealRating.query(on: req.db).filter(\.$appealID == appeal.requireID()).sort(\.$at, .descending).all()
        let files = try await Attachment.query(on: req.db).filter(\.$appeal.$id == appeal.requireID()).count()
        let context: [String: Any?] = [
            "code": appeal.trackingCode,
            "secret": secret,
            "link": "\(req.baseURL)/portal/s/\(secret)",
            "created": req.query[String.self, at: "created"] != nil,
            "tracked": tracked,
            "filesFailed": req.query[Int.self, at: "filesFailed"].map { f.number(String($0)) },
            "rated": rated,
            "status": req.text("states", appeal.status),
            "statusKey": appeal.status,
            "explain": req.catalogued("portalStates", appeal.status),
            "received": f.date(CivilDate.of(appeal.receivedAt, in: zone)),
            "registered": appeal.registeredAt.map { f.date(CivilDate.of($0, in: zone)) },
            "due": state?.terminal == true || state?.answered == true ? nil : appeal.deadlines.controlDate.map(f.date),
            "closed": appeal.closedAt.map { f.date(CivilDate.of($0, in: zone)) },
            "topics": questions.map { topics[$0.topicCode] ?? $0.topicCode }.joined(separator: "; ").nonEmpty,
            "district": appeal.district,
            "text": appeal.text,
            "files": files > 0 ? f.number(String(files)) : nil,
            "answers": answers,
            "hasAnswers": !answers.isEmpty,
            "canRate": AnswerRating.isOpen(stateAnswered: state?.answered ?? false, terminal: state?.terminal ?? true),
            "ratingErrors": ratingErrors,
            "ratings": ratings.map { ["score": f.number(String($0.score)), "solved": req.text("portal", $0.solved ? "solvedYes" : "solvedNo"),
                                      "comment": $0.comment ?? "", "at": f.date(CivilDate.of($0.at, in: zone))] },
            "hasRatings": !ratings.isEmpty,
            "scores": (1...5).map { ["value": $0, "label": f.number(String($0))] },
        ]
        return req.page("portal-status", context.present, status: status)
    }

    func rate(req: Request) async throws -> Response {
        let appeal = try await Self.appeal(req)
        struct Form: Content { var score: String?; var solved: String?; var comment: String? }
        let form = try req.content.decode(Form.self)
        try await PublicAppeals.checkRate("portal.rate", rule: .portalActions, req: req)
        let state = AppealTransitions.workflow.state(appeal.status)
        guard AnswerRating.isOpen(stateAnswered: state?.answered ?? false, terminal: state?.terminal ?? true) else {
            throw AppError.conflict(code: "not-answered", reason: "the appeal has no answer to rate now", field: "score")
        }
        let rating: AnswerRating
        do throws(ValidationError) { rating = try AnswerRating(score: form.score, comment: form.comment, solved: form.solved) } catch {
            return try await Self.page(req, appeal, secret: req.parameters.get("secret") ?? "", ratingErrors: [error.field: req.message(.invalid(field: error.field, reason: error.reason))],
                                       status: .unprocessableEntity)
        }
        try await PublicAppeals.recordRate("portal.rate", req: req)
        try await Self.record(rating, appealID: appeal.requireID(), source: "portal", settings: req.settings, store: req.store, now: req.now)
        guard let updated = try await Appeal.find(appeal.id, on: req.db) else { throw AppError.notFound(entity: "appeal", id: appeal.trackingCode) }
        return try await Self.page(req, updated, secret: req.parameters.get("secret") ?? "", ratingErrors: [:], rated: true)
    }

    /// Moves the appeal as the citizen's verdict says — solved → feedback received; not solved → back to work
    /// (through feedback), with the citizen's words in the history — then keeps the rating. The moves come first: a
    /// second click that finds the appeal already moved is refused by the workflow before a second rating is stored.
    static func record(_ rating: AnswerRating, appealID: UUID, source: String, settings: Settings, store: Store, now: Date) async throws {
        guard let appeal = try await Appeal.find(appealID, on: store.db) else { return }
        let steps = rating.moves(from: appeal.status)
        for step in steps {
            try await AppealTransitions.transition(appealID: appealID, input: TransitionInput(to: step, comment: rating.comment),
                                                   actor: PublicAppeals.portalActor, settings: settings, store: store, now: now)
        }
        try await store.write { db in
            let row = AppealRating()
            row.id = UUID.timeOrdered(at: now)
            row.appealID = appealID
            row.score = rating.score
            row.comment = rating.comment
            row.solved = rating.solved
            row.source = source
            row.at = now
            try await row.create(on: db)
            try await HistoryRecorder(db: db, actor: PublicAppeals.portalActor, at: now)
                .record(entity: "appeal", id: appealID, appealID: appealID, action: "rating", field: "rating", to: "\(rating.score)/5",
                        comment: rating.comment, note: HistoryText(key: rating.solved ? "ratedSolved" : "ratedNotSolved"))
        }
    }
}
