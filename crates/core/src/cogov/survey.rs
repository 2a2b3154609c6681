//! Simple surveys (问卷): single-choice and free-text questions. Staff type the questions one a
//! line; a line with choices separated by `|` is a single-choice question, its first part the
//! prompt (`小区停车是否方便？| 方便 | 一般 | 不方便`); a line without is a free-text question.

use serde::{Deserialize, Serialize};

use super::DraftProblem;

pub const QUESTIONS_MAX: usize = 30;
pub const CHOICES_MAX: usize = 10;
pub const TEXT_MAX: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub prompt: String,
    /// Empty for a free-text question.
    #[serde(default)]
    pub choices: Vec<String>,
}

impl Question {
    pub fn is_choice(&self) -> bool {
        !self.choices.is_empty()
    }
}

/// A survey's state: drafted, open for answers, closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyState {
    Draft,
    Open,
    Closed,
}

impl SurveyState {
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyState::Draft => "draft",
            SurveyState::Open => "open",
            SurveyState::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<SurveyState> {
        [SurveyState::Draft, SurveyState::Open, SurveyState::Closed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn label(self, lang: crate::Lang) -> &'static str {
        match self {
            SurveyState::Draft => lang.pick("草稿", "draft"),
            SurveyState::Open => lang.pick("进行中", "open"),
            SurveyState::Closed => lang.pick("已结束", "closed"),
        }
    }
}

/// One answer: the index of the chosen choice, or the text typed (possibly empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Choice(usize),
    Text(String),
}

fn problem(field: &'static str, zh: String, en: String) -> DraftProblem {
    DraftProblem { field, zh, en }
}

/// Checks a survey's title and its questions as typed.
pub fn parse_survey(title: &str, questions: &str) -> Result<(String, Vec<Question>), DraftProblem> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > super::TITLE_MAX {
        return Err(problem(
            "title",
            format!("标题 title 不能为空，且不超过 {} 字", super::TITLE_MAX),
            format!("title is required, at most {} characters", super::TITLE_MAX),
        ));
    }
    let mut out = Vec::new();
    for (n, line) in questions.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let mut parts = line.split('|').map(str::trim);
        let prompt = parts.next().unwrap_or("").to_string();
        let choices: Vec<String> = parts.map(str::to_string).collect();
        let line_no = n + 1;
        if prompt.is_empty() {
            return Err(problem(
                "questions",
                format!("问题 questions 第 {line_no} 行缺少题目"),
                format!("questions line {line_no} has no prompt"),
            ));
        }
        if choices.iter().any(String::is_empty) || choices.len() == 1 || choices.len() > CHOICES_MAX {
            return Err(problem(
                "questions",
                format!("问题 questions 第 {line_no} 行：单选题须有 2 至 {CHOICES_MAX} 个非空选项"),
                format!(
                    "questions line {line_no}: a single-choice question needs 2 to {CHOICES_MAX} non-empty choices"
                ),
            ));
        }
        out.push(Question { prompt, choices });
    }
    if out.is_empty() || out.len() > QUESTIONS_MAX {
        return Err(problem(
            "questions",
            format!("问题 questions 须有 1 至 {QUESTIONS_MAX} 题"),
            format!("questions must hold 1 to {QUESTIONS_MAX} questions"),
        ));
    }
    Ok((title.to_string(), out))
}

/// A problem with an answer: the question's index and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerProblem {
    pub question: usize,
    pub zh: String,
    pub en: String,
}

/// Checks a resident's answers; `given(i)` is what the form holds for question `i` (`q{i}`).
/// Every single-choice question must be answered; free text may be empty.
pub fn check_answers<'a>(
    questions: &[Question],
    given: impl Fn(usize) -> Option<&'a str>,
) -> Result<Vec<Answer>, AnswerProblem> {
    questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let value = given(i).unwrap_or("").trim();
            if q.is_choice() {
                value
                    .parse::<usize>()
                    .ok()
                    .filter(|c| *c < q.choices.len())
                    .map(Answer::Choice)
                    .ok_or_else(|| AnswerProblem {
                        question: i,
                        zh: format!("请选择第 {} 题（q{i}）的一个选项", i + 1),
                        en: format!("choose an answer to question {} (q{i})", i + 1),
                    })
            } else if value.chars().count() > TEXT_MAX {
                Err(AnswerProblem {
                    question: i,
                    zh: format!("第 {} 题（q{i}）不能超过 {TEXT_MAX} 字", i + 1),
                    en: format!("question {} (q{i}) takes at most {TEXT_MAX} characters", i + 1),
                })
            } else {
                Ok(Answer::Text(value.to_string()))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_are_typed_one_a_line() {
        let (t, q) = parse_survey(" 停车 ", "停车方便吗？| 方便 | 不方便\n\n建议").unwrap();
        assert_eq!(t, "停车");
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].choices, vec!["方便", "不方便"]);
        assert!(!q[1].is_choice());
        assert_eq!(parse_survey("t", "a | only").unwrap_err().field, "questions");
        assert_eq!(parse_survey("t", "").unwrap_err().field, "questions");
        assert_eq!(parse_survey("", "a").unwrap_err().field, "title");
    }

    #[test]
    fn answers_name_their_question() {
        let (_, q) = parse_survey("t", "a | x | y\nb").unwrap();
        let ok = check_answers(&q, |i| [Some("1"), Some(" hi ")][i]).unwrap();
        assert_eq!(ok, vec![Answer::Choice(1), Answer::Text("hi".into())]);
        assert_eq!(check_answers(&q, |_| None).unwrap_err().question, 0);
        assert_eq!(check_answers(&q, |i| [Some("2"), None][i]).unwrap_err().question, 0);
    }
}
